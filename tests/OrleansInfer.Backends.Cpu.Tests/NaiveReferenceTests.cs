using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>
/// The runner against a plain double-precision forward pass on synthetic shapes: grouped-query ratios 1, 2 and 4,
/// partial RoPE, odd widths (scalar tails), sequences crossing block boundaries, several sequences in one pass.
/// </summary>
public sealed class NaiveReferenceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-naive-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private ModelFile Synthesize(int dim, int heads, int kvHeads, int hidden, int ropeDims, GgmlType type = GgmlType.F32)
    {
        var config = new LlamaConfig
        {
            EmbeddingLength = dim, BlockCount = 2, HeadCount = heads, KvHeadCount = kvHeads, FeedForwardLength = hidden,
            VocabSize = 512, ContextLength = 256, RopeDimensionCount = ropeDims, TiedOutput = false,
        };
        var vocab = Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, 512);
        var path = Path.Combine(_folder, $"m{dim}-{heads}-{kvHeads}-{hidden}-{ropeDims}-{type}.gguf");
        // Larger weights than the benchmark default so attention is far from uniform and errors show.
        SyntheticModel.Write(new SyntheticPreset("test", config, "tok512.bin"), vocab, type, path, seed: 42, standardDeviation: 0.3f);
        return ModelFile.Open(path);
    }

    [Theory]
    [InlineData(64, 8, 8, 96, 8)]   // MHA
    [InlineData(64, 8, 4, 100, 8)]  // GQA 2, odd hidden (scalar tail)
    [InlineData(96, 8, 2, 160, 12)] // GQA 4
    [InlineData(64, 4, 4, 64, 8)]   // partial RoPE: 8 of 16 dims
    [InlineData(40, 5, 5, 72, 8)]   // width not a multiple of 16
    public void LogitsMatchTheNaiveForwardPass(int dim, int heads, int kvHeads, int hidden, int ropeDims)
    {
        using var model = Synthesize(dim, heads, kvHeads, hidden, ropeDims);
        var naive = new NaiveLlama(model);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, BlockSize = 3, KvBlocks = 64 });
        var driver = new RunnerDriver(runner);
        var rng = new Random(dim + heads);
        var a = Enumerable.Range(0, 11).Select(_ => rng.Next(3, 512)).ToArray();
        var b = Enumerable.Range(0, 7).Select(_ => rng.Next(3, 512)).ToArray();

        // Both prompts in one pass, then two decode steps together.
        var rows = driver.Step((1, 0, a, true), (2, 0, b, true));
        AssertClose(naive.LastLogits(a), rows[0], "prompt a");
        AssertClose(naive.LastLogits(b), rows[1], "prompt b");
        rows = driver.Step((1, a.Length, [5], true), (2, b.Length, [9], true));
        AssertClose(naive.LastLogits([.. a, 5]), rows[0], "decode a");
        AssertClose(naive.LastLogits([.. b, 9]), rows[1], "decode b");
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void QuantizedWeightsAreDequantizedOnLoad(GgmlType type)
    {
        using var model = Synthesize(64, 8, 4, 96, 8, type);
        Assert.Equal(type, model.Weights!.Layers[0].Wq.Type);
        var naive = new NaiveLlama(model); // reads the same quantized values through TensorView
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, KvBlocks = 8 });
        Assert.True(runner.DequantizedWeightBytes > 0);
        var prompt = new[] { 1, 42, 77, 300, 12 };
        AssertClose(naive.LastLogits(prompt), new RunnerDriver(runner).Prefill(1, prompt), type.ToString());
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        var maxDiff = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff <= 1e-4 * Math.Max(1, scale), $"{what}: logits differ from the naive pass by {maxDiff} (scale {scale})");
    }
}
