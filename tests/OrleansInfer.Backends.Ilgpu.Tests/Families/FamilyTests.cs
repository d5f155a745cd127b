using OrleansInfer.Engine.Runner;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests.Families;

/// <summary>
/// Tiny random models with each family's features on the ILGPU runner (emulator) against <see cref="ReferenceRunner"/>:
/// two prompts prefilled side by side in chunks of 3, a fork through a block copy, then decodes of all three
/// (<see cref="ModelRuns.CompareMixedBatches"/>), blocks of 4 slots. Each test switches several features on at once.
/// </summary>
public sealed class FamilyTests(ITestOutputHelper output)
{
    /// <summary>f32 accumulation in another order than the reference's doubles, through 2-3 layers of width ≤ 128.</summary>
    private const double Tolerance = 1e-4;

    private static readonly int[] PromptA = [5, 17, 33, 2, 90, 41, 8, 77, 63, 12, 29];
    private static readonly int[] PromptB = [3, 44, 81, 19, 6, 55, 70, 38, 91, 24, 15, 60, 9];

    [Fact]
    public void QwenAndPhiFeaturesMatchTheReference()
    {
        // qwen2 biases, qwen3 Q/K norms and a head size apart from the width (4 x 32 query dims on a width of 48),
        // NEOX pairs over part of each head (phi3's partial rotary: 24 of 32), llama3-style frequency factors, GQA,
        // f16 matrices.
        var config = Config(ModelArchitecture.Qwen3, dim: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 32, ffn: 80) with
        {
            RopeStyle = RopeStyle.Neox, RopeDimensionCount = 24, RopeBase = 1e6f, RmsEpsilon = 1e-6f,
        };
        Compare(config, new FamilyTensors { Biases = true, QkNorms = true, RopeFactors = true, MatrixType = GgmlType.F16 }, KvCacheDataType.F32, splitLength: 256);
    }

    [Fact]
    public void GemmaFeaturesMatchTheReference()
    {
        // Scaled embedding, GeGLU, post-attention and post-FFN norms, attention and final soft-capping, a query scale
        // from the keys, Q/K norms, a sliding window of 6 on layer 0 (shorter than the prompts) with its own RoPE base
        // (two tables), NEOX, tied output; a 35-token prompt so the global layer's decode attention is split.
        var config = Config(ModelArchitecture.Gemma2, dim: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 32, ffn: 96) with
        {
            RopeStyle = RopeStyle.Neox, RopeBase = 1e6f, LocalRopeBase = 1e4f, SlidingWindow = 6, SlidingWindowLayers = [true, false],
            AttentionScale = 0.3f, AttentionLogitSoftcap = 1.5f, FinalLogitSoftcap = 2.5f, EmbeddingScale = MathF.Sqrt(48),
            Activation = FeedForwardActivation.GeluTanh, TiedOutput = true, RmsEpsilon = 1e-6f,
        };
        var longPrompt = Enumerable.Range(0, 35).Select(i => (i * 37 + 11) % 90 + 3).ToArray();
        Compare(config, new FamilyTensors { QkNorms = true, PostNorms = true }, KvCacheDataType.F32, splitLength: 32, promptA: longPrompt);
    }

    [Theory]
    [InlineData(KvCacheDataType.F32)]
    [InlineData(KvCacheDataType.Q8_0)]
    public void DeciPerLayerKvHeadsMatchTheReference(KvCacheDataType kv)
    {
        // KV heads 1, 4, 2 and FFN widths 96, 64, 128 per layer: the KV pool laid out per layer, block copies per run
        // of layers with equal KV width; q8_0 matrices; the pool's bytes per token summed over the layers.
        var config = Config(ModelArchitecture.Deci, dim: 64, layers: 3, heads: 4, kvHeads: 4, headDim: 32, ffn: 128) with
        {
            LayerKvHeadCounts = [1, 4, 2], LayerFeedForwardLengths = [96, 64, 128],
        };
        var runner = Compare(config, new FamilyTensors { MatrixType = GgmlType.Q8_0 }, kv, splitLength: 256);
        var rowBytes = KvCacheDataTypes.RowBytes(kv, 32);
        Assert.Equal(2 * (1 + 4 + 2) * rowBytes * 4, runner.BytesPerBlock);
    }

    private static LlamaConfig Config(ModelArchitecture arch, int dim, int layers, int heads, int kvHeads, int headDim, int ffn) => new()
    {
        Architecture = arch, ContextLength = 64, EmbeddingLength = dim, BlockCount = layers, FeedForwardLength = ffn,
        HeadCount = heads, KvHeadCount = kvHeads, HeadDim = headDim, RopeDimensionCount = headDim, VocabSize = 96,
    };

    private KvCacheInfo Compare(LlamaConfig config, FamilyTensors tensors, KvCacheDataType kv, int splitLength, int[]? promptA = null)
    {
        using var model = new FamilyModel(config, tensors, seed: 5);
        using var reference = new ReferenceRunner(model.Model, blocks: 64, blockSize: 4, kv);
        using var gpu = new IlgpuModelRunner(model.Model, CpuAccelerator.Options(kvBlocks: 64, blockSize: 4, splitLength: splitLength) with { KvCacheDataType = kv });
        var diff = ModelRuns.CompareMixedBatches(reference, gpu, promptA ?? PromptA, PromptB, decodeSteps: 4);
        output.WriteLine($"{config.Architecture} ({KvCacheDataTypes.Name(kv)} KV): largest logit difference {diff:E2}");
        Assert.True(diff <= Tolerance, $"{config.Architecture} ({KvCacheDataTypes.Name(kv)} KV): logits differ from the reference by {diff:E2} (at most {Tolerance:E0} expected)");
        Assert.Equal(reference.KvCache.BytesPerBlock, gpu.KvCache.BytesPerBlock);
        return gpu.KvCache;
    }
}
