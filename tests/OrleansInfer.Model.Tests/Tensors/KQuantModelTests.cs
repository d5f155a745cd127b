using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Tensors;

/// <summary>Llama models written with K-quant matrices load, bind and read back through <see cref="TensorView"/>.</summary>
public sealed class KQuantModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-kquant-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(GgmlType.Q2_K, 10L)]
    [InlineData(GgmlType.Q3_K, 11L)]
    [InlineData(GgmlType.Q4_K, 14L)]
    [InlineData(GgmlType.Q5_K, 16L)]
    [InlineData(GgmlType.Q6_K, 18L)]
    [InlineData(GgmlType.Q4_1, 3L)]
    [InlineData(GgmlType.Q5_0, 8L)]
    [InlineData(GgmlType.Q5_1, 9L)]
    public void SyntheticModelRoundTripsThroughTheLoader(GgmlType type, long fileType)
    {
        var preset = SyntheticPreset.Find("tiny256")!;
        var path = Path.Combine(_folder, $"tiny256-{GgmlTypeInfo.Name(type)}.gguf");
        SyntheticModel.Write(preset, ModelFile.LoadVocabulary(SharedData.Tok512, vocabSize: null), type, path, seed: 5);

        using var model = ModelFile.Open(path);
        Assert.Equal(fileType, model.Gguf!.Metadata.GetInteger("general.file_type"));
        var weights = model.Weights!;
        Assert.Equal(GgmlType.F32, weights.Layers[0].RmsAttWeight.Type);
        var wq = weights.Layers[1].Wq;
        Assert.Equal(type, wq.Type);
        Assert.Equal(GgmlTypeInfo.ByteCount(type, 256) * 256, wq.ByteCount);

        // Row 7 read through the view equals ggml's decoding of the same bytes, and both are close to the source row.
        var ours = new float[256];
        wq.ReadRows(7, 1, ours);
        var rowBytes = (int)wq.RowBytes;
        var theirs = new float[256];
        GgmlNative.DequantizeRow(type, wq.Bytes.Slice(7 * rowBytes, rowBytes), theirs);
        Assert.Equal(theirs, ours);
        var all = wq.ToFloatArray();
        Assert.Equal(ours, all.AsSpan(7 * 256, 256).ToArray());
        var tensorIndex = LlamaTensorNames.Expected(preset.Config).Select(t => t.Name).ToList().IndexOf("blk.1.attn_q.weight");
        var source = new float[256];
        SyntheticModel.FillNormal(source, 5, (ulong)tensorIndex, 7);
        var worst = source.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 0.05f, $"{GgmlTypeInfo.Name(type)} row 7 should stay within 0.05 of the N(0, 0.02^2) source, worst error {worst}");
    }

    [Fact]
    public void RowsThatAreNotWholeSuperBlocksFallBackToF16()
    {
        Assert.Equal(GgmlType.F16, LlamaGguf.StorageType([172, 64], GgmlType.Q4_K));
        Assert.Equal(GgmlType.Q4_K, LlamaGguf.StorageType([768, 256], GgmlType.Q4_K));
        Assert.Equal(GgmlType.F32, LlamaGguf.StorageType([256], GgmlType.Q4_K));
        Assert.False(LlamaGguf.CanWrite(GgmlType.Q8_K), "Q8_K is an activation format: llama.cpp has no Q8_K weight kernel");
        Assert.True(Quantize.CanEncode(GgmlType.Q8_K), "Q8_K rows can still be encoded (activations)");
    }

    [Fact]
    public void GgufWriterEncodesKQuantTensors()
    {
        var values = GgufTestFilesValues(512 * 2);
        var w = new GgufWriter();
        w.AddTensor("t", [512, 2], GgmlType.Q6_K, values.AsMemory());
        var path = Path.Combine(_folder, "t.gguf");
        w.WriteTo(path);
        using var g = GgufFile.Open(path);
        var view = g.View("t")!;
        var expected = new byte[GgmlTypeInfo.ByteCount(GgmlType.Q6_K, values.Length)];
        GgmlNative.QuantizeRow(GgmlType.Q6_K, values, expected);
        Assert.Equal(expected, view.Bytes.ToArray());
    }

    private static float[] GgufTestFilesValues(int n) => RowSamples.Row("gaussian", n, seed: 3);
}
