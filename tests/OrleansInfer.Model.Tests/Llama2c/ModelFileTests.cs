using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Llama2c;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-bin-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Stories260KGgufConfiguration()
    {
        using var m = ModelFile.Open(SharedData.Stories260KGguf);
        var c = m.Config!;
        Assert.Equal(ModelFormat.Gguf, m.Format);
        Assert.Equal((64, 5, 8, 4, 172, 512, 128, 8), (c.EmbeddingLength, c.BlockCount, c.HeadCount, c.KvHeadCount, c.FeedForwardLength, c.VocabSize, c.ContextLength, c.RopeDimensionCount));
        Assert.Equal(1e-5f, c.RmsEpsilon);
        Assert.False(c.TiedOutput);
        Assert.Equal(2, c.GroupSize);
        Assert.Equal(GgmlType.F32, m.Weights!.Classifier.Type);
    }

    [Fact]
    public void Stories260KBinMatchesTheGgufWeights()
    {
        using var bin = ModelFile.Open(SharedData.Stories260KBin, SharedData.Tok512);
        using var gguf = ModelFile.Open(SharedData.Stories260KGguf);
        var c = bin.Config!;
        Assert.Equal(ModelFormat.Llama2c, bin.Format);
        Assert.True(c.TiedOutput);
        Assert.Equal(512, c.ContextLength);
        Assert.Equal(gguf.Config! with { ContextLength = 512, TiedOutput = true }, c);
        Assert.Same(bin.Weights!.TokenEmbedding, bin.Weights.Classifier);

        var a = bin.Weights.Layers[3];
        var b = gguf.Weights!.Layers[3];
        Assert.Equal(b.Wk.ToFloatArray(), a.Wk.ToFloatArray());
        Assert.Equal(b.W2.ToFloatArray(), a.W2.ToFloatArray());
        Assert.Equal(b.RmsFfnWeight.ToFloatArray(), a.RmsFfnWeight.ToFloatArray());
        Assert.Equal(gguf.Weights.RmsFinalWeight.ToFloatArray(), bin.Weights.RmsFinalWeight.ToFloatArray());
        Assert.Equal(gguf.Weights.Classifier.ToFloatArray(), bin.Weights.Classifier.ToFloatArray());
    }

    [Fact]
    public void UnsharedClassifierIsReadAfterTheFreqCisTables()
    {
        // Rewrite stories260K.bin with a negative vocab size, the legacy freq_cis tables and a distinct classifier.
        var original = File.ReadAllBytes(SharedData.Stories260KBin);
        var header = original.AsSpan(0, 28).ToArray();
        int dim = BitConverter.ToInt32(header, 0), heads = BitConverter.ToInt32(header, 12), vocab = BitConverter.ToInt32(header, 20), seq = BitConverter.ToInt32(header, 24);
        BitConverter.GetBytes(-vocab).CopyTo(header, 20);
        var headSize = dim / heads;
        var freqCis = new byte[2 * seq * headSize / 2 * sizeof(float)];
        Array.Fill(freqCis, (byte)0x7F); // garbage that must be skipped
        var weightsEnd = 28 + WeightBytes(original) ;
        var classifier = Enumerable.Range(0, vocab * dim).Select(i => (float)Math.Sin(i)).ToArray();
        var path = Path.Combine(_folder, "unshared.bin");
        using (var f = File.Create(path))
        {
            f.Write(header);
            f.Write(original.AsSpan(28, weightsEnd - 28));
            f.Write(freqCis);
            f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(classifier.AsSpan()));
        }

        using var m = ModelFile.Open(path, SharedData.Tok512);
        Assert.False(m.Config!.TiedOutput);
        Assert.NotSame(m.Weights!.TokenEmbedding, m.Weights.Classifier);
        Assert.Equal(classifier, m.Weights.Classifier.ToFloatArray());
    }

    /// <summary>Bytes of the weights before the freq_cis tables (run.c order) for stories260K's header.</summary>
    private static int WeightBytes(byte[] file)
    {
        int H(int i) => BitConverter.ToInt32(file, i * 4);
        int dim = H(0), hidden = H(1), layers = H(2), heads = H(3), kv = H(4), vocab = Math.Abs(H(5));
        var kvDim = dim / heads * kv;
        long floats = (long)vocab * dim + layers * (dim + dim * dim + 2L * dim * kvDim + dim * dim + dim + 3L * dim * hidden) + dim;
        return (int)(floats * 4);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(27)]
    [InlineData(1000)]
    [InlineData(500000)]
    public void TruncatedCheckpointIsATypedError(int length)
    {
        var path = Path.Combine(_folder, "cut.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedData.Stories260KBin)[..length]);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Open(path, SharedData.Tok512).Dispose());
        Assert.True(e.Offset >= 0 && e.Offset <= length, $"offset {e.Offset} should lie within the {length} bytes");
    }

    [Fact]
    public void ImplausibleHeaderIsATypedError()
    {
        var bytes = File.ReadAllBytes(SharedData.Stories260KBin);
        BitConverter.GetBytes(-5).CopyTo(bytes, 8); // n_layers
        var path = Path.Combine(_folder, "bad.bin");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Open(path, SharedData.Tok512).Dispose());
        Assert.Equal(8, e.Offset);
        Assert.Contains("n_layers", e.Reason);
    }

    [Fact]
    public void CheckpointWithoutTokenizerSaysWhatIsMissing()
    {
        var path = Path.Combine(_folder, "alone.bin");
        File.Copy(SharedData.Stories260KBin, path);
        var e = Assert.Throws<FileNotFoundException>(() => ModelFile.Open(path).Dispose());
        Assert.Contains("--tokenizer", e.Message);
    }

    [Fact]
    public void VocabularyOnlyGgufOpensWithoutWeightsWhenAllowed()
    {
        var vocab = SharedData.File("tokenizers", "ggml-vocab-llama-spm.gguf");
        using var m = ModelFile.Open(vocab, requireWeights: false);
        Assert.False(m.HasWeights);
        Assert.Equal(32000, m.Vocabulary.Count);
        Assert.Contains("no tensors", Assert.Throws<ModelFormatException>(() => ModelFile.Open(vocab).Dispose()).Reason);
    }
}
