using OrleansInfer.Model.Families;

namespace OrleansInfer.Model.Synthesis;

/// <summary>
/// Presets of every architecture: <c>tiny</c> ones (128 wide, a few layers, every feature of the family on, random
/// norms and biases, the vocabulary file's size; small enough that llama.cpp and our CPU backend run them in
/// milliseconds) for conformance tests, and real shapes (from the models' Hugging Face configs) for benchmarks.
/// </summary>
public static class FamilyPresets
{
    /// <summary>SentencePiece vocabulary GGUF (32000 tokens) in the shared tokenizers folder.</summary>
    public const string SentencePieceVocabulary = "ggml-vocab-llama-spm.gguf";

    /// <summary>GPT-2 byte-level BPE vocabulary GGUF (50257 tokens).</summary>
    public const string ByteLevelVocabulary = "ggml-vocab-gpt-2.gguf";

    /// <summary>Spread of the tiny presets' matrices: wide enough that logits differ clearly (greedy runs have no near-ties).</summary>
    public const float TinyStandardDeviation = 0.08f;

    /// <summary>
    /// Phi-3's tokens 32000-32010 after the SentencePiece vocabulary: llama.cpp sets token attributes by these names for
    /// models whose general.name says phi3, and fails to load the file when they are missing. (Declared before
    /// <see cref="All"/>, which reads it while static fields initialize in order.)
    /// </summary>
    public static IReadOnlyList<string> Phi3SpecialTokens { get; } =
    [
        "<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>", "<|placeholder3|>", "<|placeholder4|>",
        "<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>", "<|user|>",
    ];

    public static IReadOnlyList<SyntheticPreset> All { get; } =
    [
        // llama: llama3 frequency factors (rope_freqs) whose blend region lies inside the first 2048 positions; context 8192.
        Tiny(Make(ModelArchitecture.Llama, 128, 3, 4, 2, 256, 8192, ropeBase: 500000f)) with { Llama3Rope = new(8f, 1f, 4f, 2048) },
        Tiny(Make(ModelArchitecture.Llama, 128, 3, 4, 2, 256, 8192, ropeBase: 500000f,
            scaling: new RopeScaling { Type = RopeScalingType.Linear, Factor = 4f }), "tiny-linear"),
        Tiny(Make(ModelArchitecture.Llama, 128, 3, 4, 2, 256, 8192, ropeBase: 500000f,
            scaling: new RopeScaling { Type = RopeScalingType.Yarn, Factor = 4f, OriginalContextLength = 2048 }), "tiny-yarn"),
        // qwen2: Q/K/V biases, tied classifier, byte-level vocabulary.
        Tiny(Make(ModelArchitecture.Qwen2, 128, 3, 4, 2, 256, 4096, ropeBase: 1e6f, eps: 1e-6f, tied: true), vocabulary: ByteLevelVocabulary),
        // qwen3: Q/K norms, head size 48 (query width 192 != dim 128).
        Tiny(Make(ModelArchitecture.Qwen3, 128, 3, 4, 2, 256, 4096, headDim: 48, ropeBase: 1e6f, eps: 1e-6f), vocabulary: ByteLevelVocabulary),
        // phi3: fused QKV and gate/up, GQA, partial rotary (24 of 32), LongRoPE past an original context of 1024.
        Tiny(Make(ModelArchitecture.Phi3, 128, 3, 4, 2, 256, 4096, ropeDims: 24, scaling: new RopeScaling
        {
            Type = RopeScalingType.LongRope,
            OriginalContextLength = 1024,
            AttentionFactor = Phi3AttentionFactor(4096, 1024),
        })) with { LongRopeFactors = true },
        // gemma2: window 8 on layers 0 and 2, soft-caps small enough to bend the scores and logits, head size 48.
        Tiny(Make(ModelArchitecture.Gemma2, 128, 4, 4, 2, 256, 4096, headDim: 48, eps: 1e-6f, tied: true,
            more: c => c with { SlidingWindow = 8, AttentionLogitSoftcap = 2f, FinalLogitSoftcap = 8f })),
        // gemma3: 7 layers (5 windowed, a global one, a windowed one), Q/K norms, linear scaling 8 on the global layer only.
        Tiny(Make(ModelArchitecture.Gemma3, 128, 7, 4, 2, 256, 4096, headDim: 48, ropeBase: 1e6f, eps: 1e-6f, tied: true,
            scaling: new RopeScaling { Type = RopeScalingType.Linear, Factor = 8f }, more: c => c with { SlidingWindow = 8 })),
        // deci: KV heads 2, 1, 4, 2 and feed-forward widths 256, 192, 320, 128 per layer.
        Tiny(Make(ModelArchitecture.Deci, 128, 4, 4, 4, 320, 4096, more: c => c with
        {
            HeadDim = 32,
            LayerKvHeadCounts = [2, 1, 4, 2],
            LayerFeedForwardLengths = [256, 192, 320, 128],
        })),

        Real("llama3.2-1b", Make(ModelArchitecture.Llama, 2048, 16, 32, 8, 8192, 131072, vocab: 128256, ropeBase: 500000f, tied: true))
            with { Llama3Rope = new(32f, 1f, 4f, 8192) },
        Real("qwen2.5-0.5b", Make(ModelArchitecture.Qwen2, 896, 24, 14, 2, 4864, 32768, vocab: 151936, ropeBase: 1e6f, eps: 1e-6f, tied: true), ByteLevelVocabulary),
        Real("qwen3-0.6b", Make(ModelArchitecture.Qwen3, 1024, 28, 16, 8, 3072, 40960, vocab: 151936, headDim: 128, ropeBase: 1e6f, eps: 1e-6f, tied: true), ByteLevelVocabulary),
        Real("gemma3-1b", Make(ModelArchitecture.Gemma3, 1152, 26, 4, 1, 6912, 32768, vocab: 262144, headDim: 256, ropeBase: 1e6f, eps: 1e-6f, tied: true,
            more: c => c with { SlidingWindow = 512 })),
        // Phi-3-mini-4k: no LongRoPE (the 128k variant has it); its sliding_window key is ignored by llama.cpp.
        Real("phi3-mini", Make(ModelArchitecture.Phi3, 3072, 32, 32, 32, 8192, 4096, vocab: 32064)) with { PaddingTokens = Phi3SpecialTokens },
        // DeciLM-7B's variable GQA: 4 KV heads in the first 12 layers, 2 in the next 12, 1 in the last 8 (assumed; see README).
        Real("decilm-7b", Make(ModelArchitecture.Deci, 4096, 32, 32, 4, 14336, 8192, vocab: 32000, eps: 1e-6f, more: c => c with
        {
            HeadDim = 128,
            LayerKvHeadCounts = [.. Enumerable.Repeat(4, 12), .. Enumerable.Repeat(2, 12), .. Enumerable.Repeat(1, 8)],
        })),
    ];

    /// <summary>Phi-3's LongRoPE magnitude (convert_hf_to_gguf): sqrt(1 + ln(context/original) / ln(original)), 1 when not extended.</summary>
    public static float Phi3AttentionFactor(int context, int original)
    {
        var scale = context / (double)original;
        return scale <= 1 ? 1f : (float)Math.Sqrt(1 + Math.Log(scale) / Math.Log(original));
    }

    private static SyntheticPreset Tiny(LlamaConfig c, string name = "tiny", string vocabulary = SentencePieceVocabulary) =>
        new(name, c, vocabulary) { StandardDeviation = TinyStandardDeviation, RandomNorms = true, VocabularySized = true };

    private static SyntheticPreset Real(string name, LlamaConfig c, string vocabulary = SentencePieceVocabulary) => new(name, c, vocabulary);

    private static LlamaConfig Make(ModelArchitecture arch, int dim, int layers, int heads, int kvHeads, int hidden, int context,
        int vocab = 0, int? headDim = null, int? ropeDims = null, float ropeBase = 10000f, float eps = 1e-5f, bool tied = false,
        RopeScaling? scaling = null, Func<LlamaConfig, LlamaConfig>? more = null)
    {
        var hd = headDim ?? dim / heads;
        var c = new LlamaConfig
        {
            Architecture = arch,
            EmbeddingLength = dim,
            BlockCount = layers,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            FeedForwardLength = hidden,
            VocabSize = vocab,
            ContextLength = context,
            RopeBase = ropeBase,
            RmsEpsilon = eps,
            RopeDimensionCount = ropeDims ?? hd,
            RopeScaling = scaling ?? RopeScaling.None,
            TiedOutput = tied,
        };
        if (hd * heads != dim) c = c with { HeadDim = hd };
        if (more is not null) c = more(c);
        return GgufConfigReader.WithFamilyRules(c);
    }
}
