using OrleansInfer.Model.Tokenization;
using System.Text.Json;
using OrleansInfer.Model.Families;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tests.Gguf;

namespace OrleansInfer.Model.Tests.Families;

/// <summary>The ARCH.* keys read as llama.cpp's load_hparams reads them: family rules, defaults and typed refusals.</summary>
public sealed class FamilyConfigTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private LlamaConfig Read(LlamaConfig config, Action<GgufWriter>? extra = null, string? dropKey = null)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of(config.Architecture.Name()));
        var keys = new GgufWriter();
        GgufConfigWriter.Add(keys, config);
        foreach (var (key, value) in keys.Entries) if (key != dropKey) w.Add(key, value);
        extra?.Invoke(w);
        var path = _files.Write($"{Guid.NewGuid():N}.gguf", w);
        using var gguf = GgufFile.Open(path);
        return ModelFile.ReadConfig(gguf, vocabularyCount: 0);
    }

    public static TheoryData<string> RealPresets() => new(FamilyPresets.All.Where(p => !p.Name.StartsWith("tiny", StringComparison.Ordinal)).Select(p => p.Name));

    [Theory]
    [MemberData(nameof(RealPresets))]
    public void RealShapeKeysReadBackAsThePreset(string name)
    {
        var preset = SyntheticPreset.Resolve(name, arch: null);
        // No tensors in the file: the reader takes the classifier as tied, as llama.cpp does without output.weight.
        var expected = preset.Config with { TiedOutput = true };
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(Read(preset.Config)));
    }

    [Fact]
    public void Gemma2FixesScalesWindowLayersAndSoftcapDefaults()
    {
        var tiny = SyntheticPreset.Resolve("tiny", ModelArchitecture.Gemma2).Config with { VocabSize = 512 };
        var c = Read(tiny, dropKey: "gemma2.attn_logit_softcapping");
        Assert.Equal(MathF.Sqrt(128), c.EmbeddingScale);
        Assert.Equal(1f / MathF.Sqrt(48), c.AttentionScale);
        Assert.Equal([true, false, true, false], c.SlidingWindowLayers!);
        Assert.Equal(8, c.SlidingWindow);
        Assert.Equal(50f, c.AttentionLogitSoftcap); // llama.cpp's default when the key is absent
        Assert.Equal(8f, c.FinalLogitSoftcap);
        Assert.Equal(FeedForwardActivation.GeluTanh, c.Activation);
        Assert.Equal(RopeStyle.Neox, c.RopeStyle);
        Assert.Null(c.LocalRopeBase);

        var noWindow = Read(tiny, dropKey: "gemma2.attention.sliding_window");
        Assert.Equal(4096, noWindow.SlidingWindow);
    }

    [Fact]
    public void Gemma27BScalesQueriesByWidthOverHeads()
    {
        // gemma2-27b: 46 layers, dim 4608, 32 heads of 128: llama.cpp scales by 1/sqrt(4608/32) = 1/12, not 1/sqrt(128).
        var c = Read(new LlamaConfig
        {
            Architecture = ModelArchitecture.Gemma2, ContextLength = 8192, EmbeddingLength = 4608, BlockCount = 46, FeedForwardLength = 36864,
            HeadCount = 32, KvHeadCount = 16, HeadDim = 128, VocabSize = 256000, RopeDimensionCount = 128, SlidingWindow = 4096,
        });
        Assert.Equal(1f / 12f, c.AttentionScale);
    }

    [Fact]
    public void Gemma3WindowsFiveOfSixLayersWithTheLocalBaseUnscaled()
    {
        var c = Read(SyntheticPreset.Resolve("tiny", ModelArchitecture.Gemma3).Config with { VocabSize = 512 });
        Assert.Equal([true, true, true, true, true, false, true], c.SlidingWindowLayers!);
        Assert.Equal(10000f, c.LocalRopeBase);
        Assert.Null(c.AttentionLogitSoftcap);
        Assert.Null(c.FinalLogitSoftcap);
        Assert.Equal(RopeScalingType.Linear, c.RopeScaling.Type);
        Assert.Equal(8f, c.RopeScaling.Factor);
    }

    [Fact]
    public void DeciReadsPerLayerArraysAndSizesBuffersByTheMaxima()
    {
        var c = Read(SyntheticPreset.Resolve("tiny", ModelArchitecture.Deci).Config with { VocabSize = 512 });
        Assert.Equal([2, 1, 4, 2], c.LayerKvHeadCounts!);
        Assert.Equal([256, 192, 320, 128], c.LayerFeedForwardLengths!);
        Assert.Null(c.LayerHeadCounts);
        Assert.Equal(4, c.KvHeadCount);
        Assert.Equal(320, c.FeedForwardLength);
        Assert.Equal(32, c.KvDimOf(1));
        Assert.Equal("deci: dim 128, 4 layers, 4 heads (1-4 KV), hidden 128-320, vocab 512, context 4096", c.Describe());
        // Per layer: norms 2*128 + Wq/Wo 2*128*128 + Wk/Wv 2*128*kv + 3*128*ff, plus the (tied: no output.weight here) embedding and final norm.
        long expected = 0;
        foreach (var (kv, ff) in new[] { (64, 256), (32, 192), (128, 320), (64, 128) }) expected += 256 + 2 * 128 * 128 + 2 * 128 * kv + 3 * 128 * ff;
        Assert.Equal(expected + 512 * 128 + 128, c.ParameterCount);
    }

    [Fact]
    public void Phi3LongRopeComesFromTheFactorTensorsAndQwen3FromItsHeadSize()
    {
        var qwen3 = Read(SyntheticPreset.Resolve("tiny", ModelArchitecture.Qwen3).Config with { VocabSize = 512 });
        Assert.Equal(48, qwen3.HeadDim);
        Assert.Equal(192, qwen3.QueryDim);
        Assert.Equal(RopeStyle.Neox, qwen3.RopeStyle);

        var phi3 = SyntheticPreset.Resolve("tiny", ModelArchitecture.Phi3).Config with { VocabSize = 512 };
        var withoutFactors = Read(phi3);
        Assert.Equal(RopeScalingType.None, withoutFactors.RopeScaling.Type); // no rope_factors tensors: llama.cpp runs it unscaled
        Assert.Equal(1024, withoutFactors.RopeScaling.OriginalContextLength);
        Assert.Equal(24, withoutFactors.RopeDimensionCount);
    }

    [Theory]
    [InlineData("mamba", "architecture 'mamba' is not supported (supported: llama, qwen2, qwen3, phi3, gemma2, gemma3, deci)")]
    public void UnknownArchitectureIsRefusedByName(string arch, string message)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of(arch));
        using var gguf = GgufFile.Open(_files.Write("arch.gguf", w));
        Assert.Equal(message, Assert.Throws<ModelFormatException>(() => ModelFile.ReadConfig(gguf, 0)).Reason);
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "attention-free", "layer 1 has no attention (deci.attention.head_count is 0 there): attention-free layers are not supported" },
        { "linear-attention", "layer 1 has no KV heads (deci.attention.head_count_kv is 0 there): linear-attention layers are not supported" },
        { "no-ffn", "layer 1 has no feed-forward block (deci.feed_forward_length is 0 there): such layers are not supported" },
        { "moe", "mixture of experts (deci.expert_count = 8) is not supported" },
        { "scaling", "RoPE scaling type 'dynamic' is not supported (none, linear, yarn, longrope are)" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void UnsupportedFeaturesAreTypedErrorsNamingThem(string feature, string message)
    {
        var deci = SyntheticPreset.Resolve("tiny", ModelArchitecture.Deci).Config with { VocabSize = 512 };
        var (config, extra) = feature switch
        {
            "attention-free" => (deci with { LayerHeadCounts = [4, 0, 4, 4] }, (Action<GgufWriter>?)null),
            "linear-attention" => (deci with { LayerKvHeadCounts = [2, 0, 4, 2] }, null),
            "no-ffn" => (deci with { LayerFeedForwardLengths = [256, 0, 320, 128] }, null),
            "moe" => (deci, w => w.Add("deci.expert_count", GgufValue.Of(8u))),
            _ => (deci, w => w.Add("deci.rope.scaling.type", GgufValue.Of("dynamic"))),
        };
        var e = Assert.Throws<ModelFormatException>(() => Read(config, extra));
        Assert.Equal(message, e.Reason);
    }

    [Fact]
    public void Gemma3WithoutAWindowIsRefused()
    {
        var gemma3 = SyntheticPreset.Resolve("tiny", ModelArchitecture.Gemma3).Config with { VocabSize = 512 };
        var e = Assert.Throws<ModelFormatException>(() => Read(gemma3, dropKey: "gemma3.attention.sliding_window"));
        Assert.Equal("gemma3 without a sliding window is not supported", e.Reason);
    }

    [Fact]
    public void Phi3MiniPadsItsVocabularyWithPhi3SpecialTokens()
    {
        // llama.cpp looks <|endoftext|> up by name for models named phi3: the padding must carry it.
        var preset = SyntheticPreset.Resolve("phi3-mini", arch: null);
        Assert.Equal("<|endoftext|>", preset.PaddingTokens?.FirstOrDefault());
        var spm = ModelFile.LoadVocabulary(OrleansInfer.Testing.SharedData.File("tokenizers", "ggml-vocab-llama-spm.gguf"), vocabSize: null);
        var padded = SyntheticModel.FitVocabulary(spm, 32064, preset.PaddingTokens);
        Assert.Equal("<|endoftext|>", padded.Tokens[32000]);
        Assert.Equal("<|user|>", padded.Tokens[32010]);
        Assert.Equal("<|reserved_11|>", padded.Tokens[32011]);
        Assert.Equal(TokenType.Control, padded.Types[32063]);
    }
}
