using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// Every tiny preset our synthesizer writes is a file llama.cpp loads as the same shape (keys and tensor names as
/// llama.cpp expects, phi3's fused tensors, per-layer deci arrays), and its logits are finite at every position.
/// The logits themselves are compared with our backends elsewhere.
/// </summary>
public sealed class FamilyFilesLoadInLlamaCppTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-family-llamacpp-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string> TinyPresets()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in FamilyPresets.All.Where(p => p.Name.StartsWith("tiny", StringComparison.Ordinal))) data.Add(p.Architecture.Name(), p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(TinyPresets))]
    public void LlamaCppLoadsTheTinyPresetWithItsShapeAndFiniteLogits(string arch, string name)
    {
        Assert.True(ModelArchitectures.TryParse(arch, out var a));
        var preset = SyntheticPreset.Resolve(name, a);
        var path = Path.Combine(_folder, $"{arch}-{name}.gguf");
        SyntheticModel.Write(preset, ModelFile.LoadVocabulary(SharedData.File("tokenizers", preset.DefaultTokenizer), vocabSize: null), GgmlType.F32, path, seed: 11);
        using var ours = ModelFile.Open(path);
        var config = ours.Config!;

        using var llama = new LlamaCppSession(path, threads: 1, contextSize: 256);
        var native = llama.Weights.NativeHandle;
        Assert.True(config.VocabSize == llama.VocabSize, $"{arch} {name}: llama.cpp vocabulary: expected {config.VocabSize} tokens, got {llama.VocabSize}");
        Assert.True(config.EmbeddingLength == native.EmbeddingSize, $"{arch} {name}: llama.cpp n_embd: expected {config.EmbeddingLength}, got {native.EmbeddingSize}");
        Assert.True(config.BlockCount == native.LayerCount, $"{arch} {name}: llama.cpp n_layer: expected {config.BlockCount}, got {native.LayerCount}");
        Assert.True(config.HeadCountOf(0) == native.HeadCount, $"{arch} {name}: llama.cpp n_head: expected {config.HeadCountOf(0)}, got {native.HeadCount}");
        Assert.True(config.KvHeadCountOf(0) == native.KVHeadCount, $"{arch} {name}: llama.cpp n_head_kv (layer 0): expected {config.KvHeadCountOf(0)}, got {native.KVHeadCount}");
        Assert.True(config.ContextLength == llama.TrainContextSize, $"{arch} {name}: llama.cpp n_ctx_train: expected {config.ContextLength}, got {llama.TrainContextSize}");
        var parameters = ours.Gguf!.Tensors.Sum(t => t.ElementCount);
        Assert.True((ulong)parameters == native.ParameterCount, $"{arch} {name}: llama.cpp parameter count: expected {parameters}, got {native.ParameterCount}");

        // 20 tokens: longer than the gemma windows (8), so windowed layers mask.
        var prompt = Enumerable.Range(0, 20).Select(i => 100 + 37 * i).ToArray();
        var logits = llama.AllPromptLogits(prompt);
        Assert.Equal(prompt.Length * config.VocabSize, logits.Length);
        var bad = Array.FindIndex(logits, x => !float.IsFinite(x));
        Assert.True(bad < 0, $"{arch} {name}: llama.cpp logit {bad} is not finite");

        // Our reading of the keys (scales, windows, RoPE tables at llama.cpp's context of 256) reproduces llama.cpp's numbers.
        var reference = new NaiveFamilyForward(config, ours.Weights!, contextLength: 256).Logits(prompt);
        AssertClose($"{arch} {name}", logits, reference);
    }

    [Theory]
    [InlineData("llama", "tiny")]      // llama3 factors past the original context's low-frequency wavelength (2048)
    [InlineData("llama", "tiny-yarn")] // YaRN past its original context (2048)
    [InlineData("phi3", "tiny")]       // a context of 2304 > 1024 takes LongRoPE's long factors
    public void LlamaCppMatchesTheNaiveForwardPastPosition2048(string arch, string name)
    {
        Assert.True(ModelArchitectures.TryParse(arch, out var a));
        var preset = SyntheticPreset.Resolve(name, a);
        var path = Path.Combine(_folder, $"{arch}-{name}-long.gguf");
        SyntheticModel.Write(preset, ModelFile.LoadVocabulary(SharedData.File("tokenizers", preset.DefaultTokenizer), vocabSize: null), GgmlType.F32, path, seed: 12);
        using var ours = ModelFile.Open(path);
        const int context = 2304, length = 2100, last = 4;
        var prompt = Enumerable.Range(0, length).Select(i => 3 + (int)((i * 7919L) % 31000)).ToArray();
        using var llama = new LlamaCppSession(path, threads: 1, contextSize: context);
        var all = llama.AllPromptLogits(prompt);
        var vocab = ours.Config!.VocabSize;
        var theirs = all.AsSpan((length - last) * vocab).ToArray();
        var reference = new NaiveFamilyForward(ours.Config, ours.Weights!, contextLength: context).Logits(prompt, last);
        AssertClose($"{arch} {name} at positions {length - last}..{length - 1}", theirs, reference);
    }

    [Fact]
    public void APhi3NamedModelPaddedWithPhi3TokensLoads()
    {
        // llama.cpp sets attributes of <|endoftext|> & co. by name when general.name contains "phi3" and fails to load
        // without them: phi3-mini pads the SentencePiece vocabulary with Phi-3's special tokens first.
        var tiny = SyntheticPreset.Resolve("tiny", ModelArchitecture.Phi3);
        var preset = tiny with
        {
            Name = "phi3-mini", VocabularySized = false, PaddingTokens = FamilyPresets.Phi3SpecialTokens,
            Config = tiny.Config with { VocabSize = 32064 },
        };
        var path = Path.Combine(_folder, "phi3-named.gguf");
        SyntheticModel.Write(preset, ModelFile.LoadVocabulary(SharedData.File("tokenizers", preset.DefaultTokenizer), vocabSize: null), GgmlType.F32, path, seed: 5);
        using var llama = new LlamaCppSession(path, threads: 1, contextSize: 256);
        Assert.Equal(32064, llama.VocabSize);
    }

    private static void AssertClose(string what, float[] logits, float[] reference)
    {
        Assert.Equal(reference.Length, logits.Length);
        double dot = 0, na = 0, nb = 0, worst = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            dot += logits[i] * (double)reference[i];
            na += logits[i] * (double)logits[i];
            nb += reference[i] * (double)reference[i];
            worst = Math.Max(worst, Math.Abs(logits[i] - reference[i]));
        }
        var cos = dot / Math.Sqrt(na * nb);
        Assert.True(cos >= 0.9999 && worst <= 1e-3, $"{what}: naive forward vs llama.cpp: cosine {cos:F7} (>= 0.9999), max abs diff {worst:G4} (<= 1e-3)");
    }
}
