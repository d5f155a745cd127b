using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>
/// stories260K (real weights) converted to each type the CPU runner reads in place: weights are not copied, and
/// the logits of every position of a reference text agree with the same weights dequantized to an f32 file.
/// </summary>
public sealed class QuantizedModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-quant-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A copy of stories260K as <paramref name="type"/>, and that copy dequantized to f32.</summary>
    private (string Quantized, string Dequantized) Copies(GgmlType type)
    {
        var quantized = Path.Combine(_folder, $"{type}.gguf");
        var dequantized = Path.Combine(_folder, $"{type}-f32.gguf");
        using (var source = ModelFile.Open(SharedData.Stories260KGguf)) LlamaGguf.Convert(source, quantized, type);
        using (var copy = ModelFile.Open(quantized)) LlamaGguf.Convert(copy, dequantized, GgmlType.F32);
        return (quantized, dequantized);
    }

    /// <summary>Logits of every position of the first reference case (prompt and generated tokens), one token per step.</summary>
    private static List<float[]> PositionLogits(string path, int threads, int chunk)
    {
        var reference = SharedData.Reference.Cases[0];
        int[] tokens = [.. reference.PromptTokenIds, .. reference.GeneratedTokenIds];
        using var model = ModelFile.Open(path);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = threads, KvBlocks = 16 });
        var driver = new RunnerDriver(runner);
        var result = new List<float[]>();
        for (var start = 0; start < tokens.Length; start += chunk)
        {
            var n = Math.Min(chunk, tokens.Length - start);
            result.Add(driver.Step((1, start, tokens[start..(start + n)], true))[0]);
        }
        return result;
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void WeightsAreReadInPlace(GgmlType type)
    {
        var (quantized, _) = Copies(type);
        using var model = ModelFile.Open(quantized);
        Assert.Equal(type, model.Weights!.Layers[0].Wq.Type);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 4 });
        Assert.True(runner.DequantizedWeightBytes == 0, $"{type}: {runner.DequantizedWeightBytes} bytes of weights expanded to f32 (none expected)");
    }

    /// <summary>
    /// Types without a native kernel (llama.cpp's mixes produce Q5_0/Q5_1 for rows that are not whole K-quant
    /// super-blocks) are expanded to f32 at load and then computed exactly as an f32 file of the same values.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    public void WeightsWithoutANativeKernelAreDequantizedAtLoad(GgmlType type)
    {
        var (quantized, dequantized) = Copies(type);
        using (var model = ModelFile.Open(quantized))
        {
            Assert.Equal(type, model.Weights!.Layers[0].Wq.Type);
            using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 4 });
            Assert.True(runner.DequantizedWeightBytes > 0, $"{type}: no weights expanded to f32 (its matrices have no native kernel)");
        }
        var actual = PositionLogits(quantized, threads: 2, chunk: 5);
        var expected = PositionLogits(dequantized, threads: 2, chunk: 5);
        for (var p = 0; p < expected.Count; p++)
            Assert.True(expected[p].AsSpan().SequenceEqual(actual[p]), $"{type} position {p}: logits differ from the f32 copy of the same values");
    }

    /// <summary>
    /// F16/BF16 weights widen exactly, so only f32 summation order differs (1e-4). Q8_0/Q4_0 multiply int8 activations
    /// (one scale per 32 values, as llama.cpp does): each input moves by up to half a step of max|x|/127, a relative
    /// error of about 0.2% per product that accumulates through the layers. Bound: cosine similarity at least 0.999
    /// per position (the criterion against llama.cpp; measured about 0.99998 here) and, for each position, the
    /// top token of the f32 path within 1% of the logit range of the quantized top.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F16, 1)]
    [InlineData(GgmlType.BF16, 1)]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q8_0, 5)]
    [InlineData(GgmlType.Q4_0, 1)]
    [InlineData(GgmlType.Q4_0, 5)]
    public void LogitsAgreeWithTheDequantizedF32Path(GgmlType type, int chunk)
    {
        var (quantized, dequantized) = Copies(type);
        var actual = PositionLogits(quantized, threads: 2, chunk);
        var expected = PositionLogits(dequantized, threads: 2, chunk);
        var exact = type is GgmlType.F16 or GgmlType.BF16;
        for (var p = 0; p < expected.Count; p++)
        {
            var (e, a) = (expected[p], actual[p]);
            var range = e.Max() - e.Min();
            var maxDiff = e.Zip(a).Max(v => Math.Abs(v.First - v.Second));
            var cosine = Cosine(e, a);
            if (exact)
            {
                Assert.True(maxDiff <= 1e-4 * Math.Max(1, range), $"{type} position {p}: logits differ by {maxDiff} (at most 1e-4 of range {range} expected)");
                continue;
            }
            Assert.True(cosine >= 0.999, $"{type} position {p}: cosine similarity {cosine} with the f32 path (at least 0.999 expected)");
            var top = Array.IndexOf(e, e.Max());
            Assert.True(a.Max() - a[top] <= 0.01 * range, $"{type} position {p}: the f32 path's top token {top} is {a.Max() - a[top]} below the quantized top (at most 1% of range {range} expected)");
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void LogitsDoNotDependOnTheThreadCount(GgmlType type)
    {
        var (quantized, _) = Copies(type);
        foreach (var chunk in new[] { 1, 6 })
        {
            var one = PositionLogits(quantized, threads: 1, chunk);
            var three = PositionLogits(quantized, threads: 3, chunk);
            for (var p = 0; p < one.Count; p++) Assert.True(one[p].AsSpan().SequenceEqual(three[p]), $"{type} chunk {chunk} position {p}: 1 and 3 threads differ");
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
