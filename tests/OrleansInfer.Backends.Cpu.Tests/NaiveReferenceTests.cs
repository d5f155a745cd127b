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
    [InlineData(64, 4, 4, 64, 8)]   // partial RoPE: 8 of 16 dims (in memory: llama.cpp, and so our GGUF reader, refuses it for llama files)
    [InlineData(40, 5, 5, 72, 8)]   // width not a multiple of 16
    public void LogitsMatchTheNaiveForwardPass(int dim, int heads, int kvHeads, int hidden, int ropeDims)
    {
        using var inMemory = ropeDims < dim / heads ? new Families.InMemoryModel(new LlamaConfig
        {
            EmbeddingLength = dim, BlockCount = 2, HeadCount = heads, KvHeadCount = kvHeads, FeedForwardLength = hidden,
            VocabSize = 512, ContextLength = 256, RopeDimensionCount = ropeDims,
        }, new Families.ModelFeatures()) : null;
        using var file = inMemory is null ? Synthesize(dim, heads, kvHeads, hidden, ropeDims) : null;
        var model = inMemory?.Model ?? file!;
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
    [InlineData(GgmlType.BF16)]
    public void FloatWeightsAreReadInPlace(GgmlType type)
    {
        using var model = Synthesize(64, 8, 4, 96, 8, type);
        Assert.Equal(type, model.Weights!.Layers[0].Wq.Type);
        var naive = new NaiveLlama(model); // reads the same values through TensorView
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, KvBlocks = 8 });
        Assert.True(runner.DequantizedWeightBytes == 0, $"{type} weights were expanded to {runner.DequantizedWeightBytes} bytes of f32 (none expected)");
        var prompt = new[] { 1, 42, 77, 300, 12 };
        AssertClose(naive.LastLogits(prompt), new RunnerDriver(runner).Prefill(1, prompt), type.ToString());
    }

    /// <summary>
    /// Q8_0/Q4_0 weights stay in place and multiply int8-quantized activations (as llama.cpp does), so the logits
    /// differ from the naive pass over the dequantized weights by the activations' rounding: each value moves by
    /// at most half a step of max|x|/127 per block of 32, about 0.4% of the block's largest value, and such errors
    /// grow through the layers; this model's large random weights (std 0.3, so that errors show) amplify them.
    /// Bounds: cosine similarity at least 0.998 and the largest logit difference within 5% of the logits' range
    /// (measured: 0.9992 and 2.1-2.4%; real weights agree far closer, see QuantizedModelTests).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void QuantizedWeightsAreReadInPlaceWithQuantizedActivations(GgmlType type)
    {
        using var model = Synthesize(64, 8, 4, 96, 8, type);
        Assert.Equal(type, model.Weights!.Layers[0].Wq.Type);
        var naive = new NaiveLlama(model);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, KvBlocks = 8 });
        Assert.True(runner.DequantizedWeightBytes == 0, $"{type} weights were expanded to {runner.DequantizedWeightBytes} bytes of f32 (none expected)");
        var prompt = new[] { 1, 42, 77, 300, 12 };
        var expected = naive.LastLogits(prompt);
        var actual = new RunnerDriver(runner).Prefill(1, prompt);
        var cosine = Cosine(expected, actual);
        var range = expected.Max() - expected.Min();
        var maxDiff = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(cosine >= 0.998, $"{type}: cosine similarity with the naive pass {cosine} (at least 0.998 expected)");
        Assert.True(maxDiff <= 0.05 * range, $"{type}: logits differ from the naive pass by {maxDiff}, range {range} (at most 5% expected)");
    }

    private static double Cosine(double[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        var maxDiff = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff <= 1e-4 * Math.Max(1, scale), $"{what}: logits differ from the naive pass by {maxDiff} (scale {scale})");
    }
}
