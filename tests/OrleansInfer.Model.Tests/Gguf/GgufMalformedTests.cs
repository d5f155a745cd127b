using System.Text;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Gguf;

/// <summary>Malformed files give one typed error with the reason and offset: never an index, cast or out-of-memory error, never a hang.</summary>
public sealed class GgufMalformedTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private ModelFormatException Fails(byte[] bytes)
    {
        var path = _files.WriteBytes("bad.gguf", bytes);
        return Assert.Throws<ModelFormatException>(() => GgufFile.Open(path).Dispose());
    }

    /// <summary>Header: magic, version 3, tensor count, key/value count.</summary>
    private static BinaryWriter Header(MemoryStream s, ulong tensors, ulong kvs, uint version = 3)
    {
        var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(version);
        w.Write(tensors);
        w.Write(kvs);
        return w;
    }

    private static void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    [Fact]
    public void EmptyFile() => Assert.Contains("truncated", Fails([]).Message);

    [Fact]
    public void BadMagic()
    {
        var e = Fails(Encoding.ASCII.GetBytes("GGML\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"));
        Assert.Equal(0, e.Offset);
        Assert.Contains("bad magic", e.Reason);
    }

    [Fact]
    public void UnsupportedVersion()
    {
        using var s = new MemoryStream();
        Header(s, 0, 0, version: 7).Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(4, e.Offset);
        Assert.Contains("version 7", e.Reason);
    }

    [Fact]
    public void AbsurdTensorCount()
    {
        using var s = new MemoryStream();
        Header(s, 1UL << 60, 0).Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(8, e.Offset);
        Assert.Contains("tensor count", e.Reason);
    }

    [Fact]
    public void AbsurdKeyValueCount()
    {
        using var s = new MemoryStream();
        Header(s, 0, ulong.MaxValue).Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(16, e.Offset);
        Assert.Contains("key/value count", e.Reason);
    }

    [Fact]
    public void StringLongerThanTheFile()
    {
        using var s = new MemoryStream();
        var w = Header(s, 0, 1);
        w.Write(1UL << 62); // key length
        w.Write(new byte[16]);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(24, e.Offset);
        Assert.Contains("exceeds the file", e.Reason);
    }

    [Fact]
    public void ArrayCountLargerThanTheFile()
    {
        using var s = new MemoryStream();
        var w = Header(s, 0, 1);
        Str(w, "tokens");
        w.Write((uint)GgufValueType.Array);
        w.Write((uint)GgufValueType.String);
        var countAt = s.Position;
        w.Write(1UL << 40);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(countAt, e.Offset);
        Assert.Contains("element count", e.Reason);
    }

    [Fact]
    public void UnknownValueType()
    {
        using var s = new MemoryStream();
        var w = Header(s, 0, 1);
        Str(w, "k");
        var typeAt = s.Position;
        w.Write(99u);
        w.Write(0u);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(typeAt, e.Offset);
        Assert.Contains("unknown value type 99", e.Reason);
    }

    [Fact]
    public void DeeplyNestedArraysStopAtALimit()
    {
        using var s = new MemoryStream();
        var w = Header(s, 0, 1);
        Str(w, "deep");
        w.Write((uint)GgufValueType.Array);
        for (var i = 0; i < 100; i++)
        {
            w.Write((uint)GgufValueType.Array);
            w.Write(1UL);
        }
        w.Write((uint)GgufValueType.Int32);
        w.Write(0UL);
        w.Flush();
        Assert.Contains("nested deeper", Fails(s.ToArray()).Reason);
    }

    [Fact]
    public void UnknownTensorType()
    {
        using var s = new MemoryStream();
        var w = Header(s, 1, 0);
        Str(w, "t");
        w.Write(1u);
        w.Write(32UL);
        var typeAt = s.Position;
        w.Write(12345u);
        w.Write(0UL);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(typeAt, e.Offset);
        Assert.Contains("tensor 't' has unknown ggml type 12345", e.Reason);
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XXS, "iq2_xxs (16)")]
    [InlineData(GgmlType.IQ4_XS, "iq4_xs (23)")]
    [InlineData(GgmlType.TQ2_0, "tq2_0 (35)")]
    public void KnownButUnreadableTensorTypeIsNamedWithItsTensor(GgmlType type, string named)
    {
        using var s = new MemoryStream();
        var w = Header(s, 1, 0);
        Str(w, "blk.0.attn_q.weight");
        w.Write(2u);
        w.Write(256UL);
        w.Write(4UL);
        var typeAt = s.Position;
        w.Write((uint)type);
        w.Write(0UL);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Equal(typeAt, e.Offset);
        Assert.Equal($"tensor 'blk.0.attn_q.weight' has ggml type {named}, which orleans-infer cannot read", e.Reason);
    }

    [Fact]
    public void TensorDimensionsThatOverflow()
    {
        using var s = new MemoryStream();
        var w = Header(s, 1, 0);
        Str(w, "t");
        w.Write(2u);
        w.Write(1UL << 40);
        w.Write(1UL << 40);
        w.Write((uint)GgmlType.F32);
        w.Write(0UL);
        w.Flush();
        Assert.Contains("overflows", Fails(s.ToArray()).Reason);
    }

    [Fact]
    public void TensorDataPastTheEndOfTheFile()
    {
        using var s = new MemoryStream();
        var w = Header(s, 1, 0);
        Str(w, "t");
        w.Write(1u);
        w.Write(1024UL);
        w.Write((uint)GgmlType.F32);
        w.Write(0UL);
        w.Flush();
        var e = Fails(s.ToArray());
        Assert.Contains("extends past the end of the file", e.Reason);
        Assert.True(e.Offset > 0);
    }

    [Fact]
    public void EveryTruncationIsATypedErrorUnlessOnlyPaddingIsCut()
    {
        var full = File.ReadAllBytes(_files.Write("full.gguf", GgufTestFiles.Everything()));
        long dataEnd;
        using (var g = GgufFile.Open(_files.PathFor("full.gguf")))
            dataEnd = g.DataOffset + g.Tensors.Max(t => (long)t.Offset + t.ByteCount);

        for (var length = 0; length < full.Length; length++)
        {
            var path = _files.WriteBytes("cut.gguf", full[..length]);
            if (length >= dataEnd)
            {
                using var ok = GgufFile.Open(path);
                continue;
            }
            var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path).Dispose());
            Assert.True(e.Offset <= full.Length, $"truncated at {length}: offset {e.Offset} beyond the file");
        }
    }

    [Fact]
    public void RandomCorruptionOpensOrFailsWithTheTypedError()
    {
        var full = File.ReadAllBytes(_files.Write("full.gguf", GgufTestFiles.Everything()));
        var headerLength = (int)GgufFile.Open(_files.PathFor("full.gguf")).DataOffset;
        var rng = new Random(20261126);
        var opened = 0;
        var rejected = 0;
        for (var i = 0; i < 1500; i++)
        {
            var bytes = (byte[])full.Clone();
            for (var j = rng.Next(1, 4); j > 0; j--) bytes[rng.Next(headerLength)] = (byte)rng.Next(256);
            var path = _files.WriteBytes("fuzz.gguf", bytes);
            try
            {
                using var g = GgufFile.Open(path);
                foreach (var t in g.Tensors) _ = g.View(t).ToFloatArray();
                opened++;
            }
            catch (ModelFormatException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 100, $"expected many corrupted headers to be rejected, got {rejected} of 1500");
        Assert.Equal(1500, opened + rejected);
    }

    [Fact]
    public void MissingRequiredLlamaKeyNamesTheKey()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("llama.context_length", GgufValue.Of(16u));
        w.Add("tokenizer.ggml.model", GgufValue.Of("llama"));
        w.Add("tokenizer.ggml.tokens", GgufValue.Of(["<unk>", "<s>", "</s>", "a"]));
        w.AddTensor("token_embd.weight", [4, 4], GgmlType.F32, new float[16].AsMemory());
        var path = _files.Write("nokey.gguf", w);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Open(path).Dispose());
        Assert.Contains("'llama.embedding_length'", e.Reason);
        Assert.True(e.Offset > 0, "the offset points at the end of the metadata");
    }

    [Fact]
    public void MissingTensorAndWrongShapeAreNamed()
    {
        var bin = Testing.SharedData.Stories260KBin;
        using var model = ModelFile.Open(bin, Testing.SharedData.Tok512);
        var converted = _files.PathFor("ok.gguf");
        LlamaGguf.Convert(model, converted, GgmlType.F32);
        using var g = GgufFile.Open(converted);

        var w = new GgufWriter();
        foreach (var (k, v) in g.Metadata.Entries) w.Add(k, v);
        foreach (var t in g.Tensors.Where(t => t.Name != "blk.2.attn_k.weight"))
        {
            var data = g.View(t).Bytes.ToArray();
            w.AddTensor(t.Name, t.Shape, t.Type, data.AsMemory());
        }
        var missing = _files.Write("missing.gguf", w);
        Assert.Contains("'blk.2.attn_k.weight' is missing", Assert.Throws<ModelFormatException>(() => ModelFile.Open(missing).Dispose()).Reason);
    }
}
