using System.Text.Json;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Families;

/// <summary>Every family's tiny preset written by the synthesizer reads back as its config and weights, and rewrites byte for byte.</summary>
public sealed class FamilyFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-families-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string> TinyPresets()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in FamilyPresets.All.Where(p => p.Name.StartsWith("tiny", StringComparison.Ordinal))) data.Add(p.Architecture.Name(), p.Name);
        return data;
    }

    private static SyntheticPreset Preset(string arch, string name) =>
        SyntheticPreset.Resolve(name, ModelArchitectures.TryParse(arch, out var a) ? a : throw new ArgumentException(arch));

    private string Synthesize(SyntheticPreset preset, GgmlType type)
    {
        var path = Path.Combine(_folder, $"{preset.Architecture.Name()}-{preset.Name}-{GgmlTypeInfo.Name(type)}.gguf");
        SyntheticModel.Write(preset, ModelFile.LoadVocabulary(SharedData.Tok512, vocabSize: null), type, path, seed: 3);
        return path;
    }

    [Theory]
    [MemberData(nameof(TinyPresets))]
    public void TinyPresetReadsBackAsItsConfig(string arch, string name)
    {
        var preset = Preset(arch, name);
        using var model = ModelFile.Open(Synthesize(preset, GgmlType.F32));
        var expected = preset.ConfigFor(model.Vocabulary);
        Assert.Equal(512, expected.VocabSize);
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(model.Config));

        var w = model.Weights!;
        var names = w.All().Select(t => t.Name).ToList();
        Assert.True(names.Count == names.Distinct().Count(), $"tensor names must be unique, got duplicates in {string.Join(", ", names)}");
        var family = expected.Architecture;
        foreach (var layer in w.Layers)
        {
            Assert.Equal(family.HasQkvBiases(), layer.Bq is not null && layer.Bk is not null && layer.Bv is not null);
            Assert.Equal(family.HasQkNorms(), layer.QNorm is not null && layer.KNorm is not null);
            Assert.Equal(family.HasPostNorms(), layer.PostAttentionNorm is not null && layer.PostFeedForwardNorm is not null);
        }
        Assert.Equal(preset.Llama3Rope is not null, w.RopeFrequencyFactors is not null);
        Assert.Equal(preset.LongRopeFactors, w.RopeFactorsLong is not null && w.RopeFactorsShort is not null);
        for (var l = 0; l < expected.BlockCount; l++)
        {
            var layer = w.Layers[l];
            Assert.Equal([expected.EmbeddingLength, expected.HeadCountOf(l) * expected.HeadDim], layer.Wq.Shape);
            Assert.Equal([expected.EmbeddingLength, expected.KvDimOf(l)], layer.Wk.Shape);
            Assert.Equal([expected.EmbeddingLength, expected.FeedForwardLengthOf(l)], layer.W1.Shape);
            Assert.Equal([expected.EmbeddingLength, expected.FeedForwardLengthOf(l)], layer.W3.Shape);
            Assert.Equal([expected.FeedForwardLengthOf(l), expected.EmbeddingLength], layer.W2.Shape);
        }
    }

    [Theory]
    [MemberData(nameof(TinyPresets))]
    public void TinyPresetNormsAndBiasesAreRandomNotOne(string arch, string name)
    {
        var preset = Preset(arch, name);
        using var model = ModelFile.Open(Synthesize(preset, GgmlType.F32));
        var layer = model.Weights!.Layers[0];
        foreach (var norm in new[] { layer.RmsAttWeight, layer.RmsFfnWeight, model.Weights.RmsFinalWeight, layer.QNorm, layer.PostFeedForwardNorm }.OfType<TensorView>())
        {
            var values = norm.ToFloatArray();
            Assert.True(values.Distinct().Count() == values.Length && values.Average() is > 0.8f and < 1.2f,
                $"{norm.Name} should hold distinct values around 1, got {string.Join(", ", values.Take(4))}...");
        }
        if (layer.Bq is { } bias) Assert.True(bias.ToFloatArray().All(b => b != 0f), "qwen2 biases should all be non-zero");
    }

    [Theory]
    [MemberData(nameof(TinyPresets))]
    public void ConvertRewritesTheFileByteForByte(string arch, string name)
    {
        var source = Synthesize(Preset(arch, name), GgmlType.Q8_0);
        var copy = Path.Combine(_folder, "copy.gguf");
        using (var model = ModelFile.Open(source)) LlamaGguf.Convert(model, copy, GgmlType.Q8_0);
        Assert.True(File.ReadAllBytes(source).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"{arch} {name}: converting the file should reproduce it exactly (fused tensors reassembled)");
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q8_0)]
    public void Phi3FusedTensorsSplitIntoRowSlices(GgmlType type)
    {
        var preset = SyntheticPreset.Resolve("tiny", ModelArchitecture.Phi3);
        using var model = ModelFile.Open(Synthesize(preset, type));
        var c = model.Config!;
        var layer = model.Weights!.Layers[1];
        var qkv = model.Gguf!.View("blk.1.attn_qkv.weight")!.ToFloatArray();
        var gateUp = model.Gguf.View("blk.1.ffn_up.weight")!.ToFloatArray();
        int d = c.EmbeddingLength, q = c.QueryDim, kv = c.KvDim, h = c.FeedForwardLength;
        Assert.Equal("blk.1.attn_qkv.weight[q]", layer.Wq.Name);
        Assert.Equal("blk.1.ffn_up.weight[gate]", layer.W1.Name);
        Assert.Equal(qkv[..(q * d)], layer.Wq.ToFloatArray());
        Assert.Equal(qkv[(q * d)..((q + kv) * d)], layer.Wk.ToFloatArray());
        Assert.Equal(qkv[((q + kv) * d)..], layer.Wv.ToFloatArray());
        // HF's Phi3MLP and ggml_swiglu: the first half of ffn_up is the gate.
        Assert.Equal(gateUp[..(h * d)], layer.W1.ToFloatArray());
        Assert.Equal(gateUp[(h * d)..], layer.W3.ToFloatArray());
        Assert.Equal(type, layer.Wq.Type);
    }

    [Fact]
    public void RowSliceRejectsRowsOutsideTheMatrix()
    {
        var preset = SyntheticPreset.Resolve("tiny", ModelArchitecture.Llama);
        using var model = ModelFile.Open(Synthesize(preset, GgmlType.F32));
        var wq = model.Weights!.Layers[0].Wq;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => wq.RowSlice("x", 100, 29));
        Assert.Contains("rows [100, 129) are outside tensor blk.0.attn_q.weight (128 rows)", e.Message);
        Assert.Throws<InvalidOperationException>(() => model.Weights.RmsFinalWeight.RowSlice("y", 0, 1));
    }

    [Fact]
    public void ATensorWeWouldIgnoreIsATypedError()
    {
        // llama.cpp adds blk.N.attn_output.bias when present; running without it would give other numbers.
        var source = Synthesize(SyntheticPreset.Resolve("tiny", ModelArchitecture.Llama), GgmlType.F32);
        var w = new OrleansInfer.Model.Gguf.GgufWriter();
        using (var model = ModelFile.Open(source))
        {
            foreach (var (key, value) in model.Gguf!.Metadata.Entries) w.Add(key, value);
            foreach (var info in model.Gguf.Tensors) w.AddTensor(info.Name, info.Shape, info.Type, model.Gguf.View(info).Bytes.ToArray());
        }
        w.AddTensor("blk.0.attn_output.bias", [128], GgmlType.F32, new float[128]);
        var path = Path.Combine(_folder, "bias.gguf");
        w.WriteTo(path);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Open(path));
        Assert.Equal("tensor 'blk.0.attn_output.bias' is not used by the llama architecture as we run it (an unsupported feature)", e.Reason);
    }

    [Fact]
    public void FamilyModelsWritesEachTinyFileOnceAndOpensIt()
    {
        var first = FamilyModels.Path(ModelArchitecture.Gemma3);
        Assert.Equal(first, FamilyModels.Path(ModelArchitecture.Gemma3));
        using var model = FamilyModels.Open(ModelArchitecture.Gemma3);
        Assert.Equal(ModelArchitecture.Gemma3, model.Config!.Architecture);
        Assert.Equal(512, model.Config.VocabSize);
        Assert.Equal(9, FamilyModels.Tiny.Count());
    }
}
