using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck.Families;

/// <summary>One tiny random model with a family's features, and how it is run (KV type, split length, first prompt).</summary>
public sealed record FamilyCase(string Name, LlamaConfig Config, FamilyTensors Tensors, KvCacheDataType Kv, int SplitLength, int[] PromptA);

/// <summary>
/// The family models the unit tests (emulator) and the GPU check (CUDA) run against <see cref="ReferenceRunner"/> and
/// the CPU backend:
/// two prompts prefilled side by side in chunks of 3, a fork through a block copy, then decodes of all three
/// (<see cref="ModelRuns.CompareMixedBatches"/>), blocks of 4 slots. Each case switches several features on at once.
/// </summary>
public static class FamilyCases
{
    /// <summary>f32 accumulation in another order than the reference's doubles, through 2-3 layers of width ≤ 128.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Per KV encoding, against the reference and the CPU backend alike: each computes its f32 keys in its own order
    /// (~1e-6 apart), which can move a value across a q8_0 rounding boundary (a step of max|x|/127 of its block) in one
    /// of them and not the other, as <c>KvCacheDataTypeTests</c> allows. Which pair crosses depends on the device: the
    /// deci case differed by 2.4e-3 from the CPU backend on the emulator and from the reference on an H200.
    /// </summary>
    public static double KvTolerance(KvCacheDataType kv) => kv switch
    {
        KvCacheDataType.Q8_0 => 1e-2,
        KvCacheDataType.F16 => 1e-3,
        _ => Tolerance,
    };

    public static readonly int[] PromptA = [5, 17, 33, 2, 90, 41, 8, 77, 63, 12, 29];
    public static readonly int[] PromptB = [3, 44, 81, 19, 6, 55, 70, 38, 91, 24, 15, 60, 9];

    public static IEnumerable<FamilyCase> All()
    {
        // qwen2 biases, qwen3 Q/K norms and a head size apart from the width (4 x 32 query dims on a width of 48),
        // NEOX pairs over part of each head (phi3's partial rotary: 24 of 32), llama3-style frequency factors, GQA,
        // f16 matrices.
        yield return new("qwen-phi", Config(ModelArchitecture.Qwen3, dim: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 32, ffn: 80) with
        {
            RopeStyle = RopeStyle.Neox, RopeDimensionCount = 24, RopeBase = 1e6f, RmsEpsilon = 1e-6f,
        }, new FamilyTensors { Biases = true, QkNorms = true, RopeFactors = true, MatrixType = GgmlType.F16 }, KvCacheDataType.F32, 256, PromptA);

        // Scaled embedding, GeGLU, post-attention and post-FFN norms, attention and final soft-capping, a query scale
        // from the keys, Q/K norms, a sliding window of 6 on layer 0 (shorter than the prompts) with its own RoPE base
        // (two tables), NEOX, tied output; a 35-token prompt so the global layer's decode attention is split.
        yield return new("gemma", Config(ModelArchitecture.Gemma2, dim: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 32, ffn: 96) with
        {
            RopeStyle = RopeStyle.Neox, RopeBase = 1e6f, LocalRopeBase = 1e4f, SlidingWindow = 6, SlidingWindowLayers = [true, false],
            AttentionScale = 0.3f, AttentionLogitSoftcap = 1.5f, FinalLogitSoftcap = 2.5f, EmbeddingScale = MathF.Sqrt(48),
            Activation = FeedForwardActivation.GeluTanh, TiedOutput = true, RmsEpsilon = 1e-6f,
        }, new FamilyTensors { QkNorms = true, PostNorms = true }, KvCacheDataType.F32, 32, Enumerable.Range(0, 35).Select(i => (i * 37 + 11) % 90 + 3).ToArray());

        // KV heads 1, 4, 2 and FFN widths 96, 64, 128 per layer: the KV pool laid out per layer, block copies per run
        // of layers with equal KV width; q8_0 matrices; f32 and q8_0 KV.
        foreach (var kv in new[] { KvCacheDataType.F32, KvCacheDataType.Q8_0 })
        {
            yield return new($"deci {KvCacheDataTypes.Name(kv)} KV", Config(ModelArchitecture.Deci, dim: 64, layers: 3, heads: 4, kvHeads: 4, headDim: 32, ffn: 128) with
            {
                LayerKvHeadCounts = [1, 4, 2], LayerFeedForwardLengths = [96, 64, 128],
            }, new FamilyTensors { MatrixType = GgmlType.Q8_0 }, kv, 256, PromptA);
        }
    }

    /// <summary>
    /// Runs a case on the ILGPU runner, the reference and the CPU backend: the largest logit differences of the ILGPU
    /// runner from each, and the KV pools of the ILGPU runner and the CPU backend.
    /// </summary>
    public static (double VsReference, double VsCpu, KvCacheInfo Ilgpu, KvCacheInfo Cpu) Run(FamilyCase c, IlgpuRunnerOptions options, int cpuThreads)
    {
        using var model = new FamilyModel(c.Config, c.Tensors, seed: 5);
        using var reference = new ReferenceRunner(model.Model, blocks: 64, blockSize: 4, c.Kv);
        using var gpu = new IlgpuModelRunner(model.Model, options with { KvBlocks = 64, BlockSize = 4, AttentionSplitLength = c.SplitLength, KvCacheDataType = c.Kv });
        var vsReference = ModelRuns.CompareMixedBatches(reference, gpu, c.PromptA, PromptB, decodeSteps: 4);
        using var gpu2 = new IlgpuModelRunner(model.Model, options with { KvBlocks = 64, BlockSize = 4, AttentionSplitLength = c.SplitLength, KvCacheDataType = c.Kv });
        // The CPU backend's Q8_0 products quantize the activations (as ggml's): it runs the same weights decoded to f32.
        using var decoded = new FamilyModel(c.Config, c.Tensors, seed: 5, decoded: true);
        using var cpu = new CpuModelRunner(decoded.Model, new CpuRunnerOptions { Threads = cpuThreads, KvBlocks = 64, BlockSize = 4, KvCacheDataType = c.Kv });
        var vsCpu = ModelRuns.CompareMixedBatches(cpu, gpu2, c.PromptA, PromptB, decodeSteps: 4);
        return (vsReference, vsCpu, gpu.KvCache, cpu.KvCache);
    }

    private static LlamaConfig Config(ModelArchitecture arch, int dim, int layers, int heads, int kvHeads, int headDim, int ffn) => new()
    {
        Architecture = arch, ContextLength = 64, EmbeddingLength = dim, BlockCount = layers, FeedForwardLength = ffn,
        HeadCount = heads, KvHeadCount = kvHeads, HeadDim = headDim, RopeDimensionCount = headDim, VocabSize = 96,
    };
}

/// <summary>`gpu-check families`: every <see cref="FamilyCases"/> case on the device against the reference runner.</summary>
public static class FamilyStep
{
    public static int Run(Options o, Results results)
    {
        var failed = 0;
        foreach (var c in FamilyCases.All())
        {
            var options = new IlgpuRunnerOptions { Device = o.Device, MaxBatchTokens = 128, MaxBatchSequences = 16, CpuWarpSize = 4 };
            var (vsReference, vsCpu, ilgpu, cpu) = FamilyCases.Run(c, options, Math.Min(4, Environment.ProcessorCount));
            var ok = vsReference <= FamilyCases.KvTolerance(c.Kv) && vsCpu <= FamilyCases.KvTolerance(c.Kv) && ilgpu.BytesPerBlock == cpu.BytesPerBlock;
            if (!ok) failed++;
            Console.WriteLine($"  {c.Name,-16} max logit diff {vsReference:E2} vs reference, {vsCpu:E2} vs CPU backend, KV bytes per block {ilgpu.BytesPerBlock} (CPU {cpu.BytesPerBlock})  {(ok ? "ok" : "FAIL")}");
            results.Add("families", c.Name, $"max logit diff {vsReference:E2} vs naive reference, {vsCpu:E2} vs CPU (chunked prefill + fork + decode)", ok ? "ok" : "FAIL");
        }
        return failed == 0 ? 0 : 1;
    }
}
