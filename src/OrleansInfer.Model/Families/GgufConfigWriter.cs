using OrleansInfer.Model.Gguf;

namespace OrleansInfer.Model.Families;

/// <summary>
/// Writes a <see cref="LlamaConfig"/> as the <c>ARCH.*</c> keys llama.cpp reads (the inverse of
/// <see cref="GgufConfigReader"/>). Plain llama keys come first in their historical order, so llama files are
/// byte-identical to before; family keys follow only when they differ from llama.cpp's defaults.
/// </summary>
public static class GgufConfigWriter
{
    public static void Add(GgufWriter writer, LlamaConfig c)
    {
        var arch = c.Architecture.Name();
        void Key(string key, GgufValue value) => writer.Add($"{arch}.{key}", value);
        static GgufValue Count(int[]? perLayer, int scalar) => perLayer is null ? GgufValue.Of((uint)scalar) : GgufValue.Of(perLayer);

        Key("context_length", GgufValue.Of((uint)c.ContextLength));
        Key("embedding_length", GgufValue.Of((uint)c.EmbeddingLength));
        Key("block_count", GgufValue.Of((uint)c.BlockCount));
        Key("feed_forward_length", Count(c.LayerFeedForwardLengths, c.FeedForwardLength));
        Key("attention.head_count", Count(c.LayerHeadCounts, c.HeadCount));
        Key("attention.head_count_kv", Count(c.LayerKvHeadCounts, c.KvHeadCount));
        Key("rope.dimension_count", GgufValue.Of((uint)c.RopeDimensionCount));
        Key("rope.freq_base", GgufValue.Of(c.RopeBase));
        Key("attention.layer_norm_rms_epsilon", GgufValue.Of(c.RmsEpsilon));
        Key("vocab_size", GgufValue.Of((uint)c.VocabSize));

        // llama.cpp's default head size is n_embd / n_head(layer 0); converters of qwen3 and gemma always write it.
        if (c.HeadDim * c.HeadCountOf(0) != c.EmbeddingLength || c.Architecture.HasQkNorms() || c.Architecture.IsGemma())
        {
            Key("attention.key_length", GgufValue.Of((uint)c.HeadDim));
            Key("attention.value_length", GgufValue.Of((uint)c.HeadDim));
        }

        AddRopeScaling(c, Key);
        if (c.SlidingWindow is { } window)
        {
            if (!c.Architecture.IsGemma()) throw new ArgumentException($"{arch} files cannot state a sliding window that llama.cpp uses (gemma2/gemma3 only)", nameof(c));
            Key("attention.sliding_window", GgufValue.Of((uint)window));
        }
        if (c.AttentionLogitSoftcap is { } attnCap) Key("attn_logit_softcapping", GgufValue.Of(attnCap));
        if (c.FinalLogitSoftcap is { } finalCap) Key("final_logit_softcapping", GgufValue.Of(finalCap));
    }

    private static void AddRopeScaling(LlamaConfig c, Action<string, GgufValue> key)
    {
        var s = c.RopeScaling;
        if (s.ExtFactor is not null || s.BetaFast != 32f || s.BetaSlow != 1f)
            throw new ArgumentException("llama.cpp reads no YaRN ext factor or beta keys for these architectures; they cannot be written", nameof(c));
        switch (s.Type)
        {
            case RopeScalingType.Linear: key("rope.scaling.type", GgufValue.Of("linear")); break;
            case RopeScalingType.Yarn: key("rope.scaling.type", GgufValue.Of("yarn")); break;
            // phi3's converter writes no type: the long/short factor tensors make it LongRoPE. deci needs the type.
            case RopeScalingType.LongRope when c.Architecture != ModelArchitecture.Phi3: key("rope.scaling.type", GgufValue.Of("longrope")); break;
        }
        if (s.Factor != 1f) key("rope.scaling.factor", GgufValue.Of(s.Factor));
        if (s.OriginalContextLength is { } original) key("rope.scaling.original_context_length", GgufValue.Of((uint)original));
        if (s.AttentionFactor != 1f) key("rope.scaling.attn_factor", GgufValue.Of(s.AttentionFactor));
    }
}
