using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    public void EveryMetadataTypeAndTensorTypeRoundTrips(uint alignment)
    {
        var path = _files.Write("all.gguf", GgufTestFiles.Everything(alignment));
        using var g = GgufFile.Open(path);

        Assert.Equal(3u, g.Version);
        Assert.Equal(alignment, g.Alignment);
        Assert.Equal(0, g.DataOffset % alignment);
        var m = g.Metadata;
        Assert.Equal((byte)200, m.Entries.Single(e => e.Key == "u8").Value.Value);
        Assert.Equal((sbyte)-100, m.Entries.Single(e => e.Key == "i8").Value.Value);
        Assert.Equal((ushort)60000, m.Entries.Single(e => e.Key == "u16").Value.Value);
        Assert.Equal((short)-30000, m.Entries.Single(e => e.Key == "i16").Value.Value);
        Assert.Equal(4000000000L, m.GetInteger("u32"));
        Assert.Equal(-2000000000L, m.GetInteger("i32"));
        Assert.Equal(3.25, m.GetNumber("f32"));
        Assert.True(m.GetBool("bool"));
        Assert.Equal("héllo wörld ✓", m.GetString("string"));
        Assert.Equal(ulong.MaxValue, m.Entries.Single(e => e.Key == "u64").Value.Value);
        Assert.Equal(long.MinValue, m.GetInteger("i64"));
        Assert.Equal(Math.PI, m.GetNumber("f64"));
        Assert.Equal(["a", "", "ccc"], m.GetArray<string>("strings")!);
        Assert.Equal([1f, -2f], m.GetArray<float>("floats")!);
        Assert.Empty(m.GetArray<ulong>("empty")!);

        var nested = m.GetArray<GgufArray>("nested")!;
        Assert.Equal([1, 2, 3], (int[])nested[0].Items);
        Assert.Equal(["x"], (string[])nested[1].Items);
        var inner = ((GgufArray[])nested[2].Items)[0];
        Assert.Equal(GgufValueType.Bool, inner.ElementType);
        Assert.Equal([true, false], (bool[])inner.Items);

        // Metadata keeps file order.
        Assert.Equal("u8", m.Entries[alignment == 32 ? 0 : 1].Key);
    }

    [Theory]
    [InlineData(GgmlType.F32, 0.0)]
    [InlineData(GgmlType.F16, 1e-3)]
    [InlineData(GgmlType.BF16, 8e-3)]
    [InlineData(GgmlType.Q8_0, 1.0 / 127)]
    [InlineData(GgmlType.Q4_0, 1.0 / 7)]
    public void TensorDataIsReadInPlaceAndDecodesWithinTheTypePrecision(GgmlType type, double tolerance)
    {
        var path = _files.Write("all.gguf", GgufTestFiles.Everything());
        using var g = GgufFile.Open(path);
        var info = g.Tensors.Single(t => t.Type == type);
        Assert.Equal([64L, 3L], info.Shape);
        var view = g.View(info);
        var expected = GgufTestFiles.Values(64 * 3, seed: (int)type);
        var actual = view.ToFloatArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{type} value {i}: expected {expected[i]} within {tolerance}, got {actual[i]}");
        Assert.Equal(GgmlTypeInfo.ByteCount(type, 64 * 3), view.ByteCount);
    }

    [Fact]
    public void WriterAlignsEveryTensorOffset()
    {
        var w = new GgufWriter();
        w.AddTensor("a", [3], GgmlType.F32, new float[] { 1, 2, 3 }.AsMemory());
        w.AddTensor("b", [5], GgmlType.F32, new float[] { 4, 5, 6, 7, 8 }.AsMemory());
        using var g = GgufFile.Open(_files.Write("align.gguf", w));
        Assert.Equal([0UL, 32UL], g.Tensors.Select(t => t.Offset));
        Assert.Equal([4f, 5f, 6f, 7f, 8f], g.View("b")!.ToFloatArray());
    }

    [Fact]
    public void WriterRejectsDuplicateKeysAndTensors()
    {
        var w = new GgufWriter();
        w.Add("k", GgufValue.Of(1));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValue.Of(2)));
        w.AddTensor("t", [2], GgmlType.F32, new float[2].AsMemory());
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [2], GgmlType.F32, new float[2].AsMemory()));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", [33], GgmlType.Q8_0, new float[33].AsMemory()));
    }

    [Fact]
    public void Stories260KGgufIsRead()
    {
        using var g = GgufFile.Open(Testing.SharedData.Stories260KGguf);
        Assert.Equal(3u, g.Version);
        Assert.Equal(48, g.Tensors.Count);
        Assert.Equal("llama", g.Metadata.GetString("general.architecture"));
        Assert.Equal(512, g.Metadata.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        Assert.True(g.TryGetTensor("blk.4.ffn_down.weight", out var down));
        Assert.Equal([172L, 64L], down.Shape);
    }
}
