using OrleansInfer.Model.Gguf;

namespace OrleansInfer.Model.Families;

/// <summary>
/// Reads <see cref="LlamaConfig"/> from the <c>ARCH.*</c> keys as llama.cpp's load_hparams does for the families we
/// run (src/llama-model.cpp): defaults, per-layer arrays, and each family's fixed choices. What llama.cpp would run
/// and we do not (mixture of experts, attention-free or linear-attention layers, ...) is a ModelFormatException
/// naming it.
/// </summary>
public static class GgufConfigReader
{
    public static LlamaConfig Read(GgufFile gguf, int vocabularyCount)
    {
        var m = gguf.Metadata;
        var name = m.GetString("general.architecture") ?? throw m.Missing("general.architecture");
        if (!ModelArchitectures.TryParse(name, out var arch))
            throw new ModelFormatException($"architecture '{name}' is not supported (supported: {string.Join(", ", ModelArchitectures.All)})", m.OffsetOf("general.architecture"), gguf.Path);
        var keys = new Keys(gguf, name);

        if (m.GetInteger($"{name}.expert_count") is > 0 and var experts)
            throw keys.Unsupported("expert_count", $"mixture of experts ({name}.expert_count = {experts}) is not supported");

        var dim = keys.Required("embedding_length");
        var layers = keys.Required("block_count");
        var heads = keys.PerLayer("attention.head_count", layers) ?? throw m.Missing($"{name}.attention.head_count");
        var kvHeads = keys.PerLayer("attention.head_count_kv", layers) ?? heads;
        var ff = keys.PerLayer("feed_forward_length", layers) ?? throw m.Missing($"{name}.feed_forward_length");
        for (var l = 0; l < layers; l++)
        {
            if (heads[l] == 0) throw keys.Unsupported("attention.head_count", $"layer {l} has no attention ({name}.attention.head_count is 0 there): attention-free layers are not supported");
            if (kvHeads[l] == 0) throw keys.Unsupported("attention.head_count_kv", $"layer {l} has no KV heads ({name}.attention.head_count_kv is 0 there): linear-attention layers are not supported");
            if (ff[l] == 0) throw keys.Unsupported("feed_forward_length", $"layer {l} has no feed-forward block ({name}.feed_forward_length is 0 there): such layers are not supported");
        }

        // llama.cpp: head size = n_embd / n_head(layer 0) unless attention.key_length says otherwise.
        var headDim = keys.Optional("attention.key_length") ?? dim / heads[0];
        var valueDim = keys.Optional("attention.value_length") ?? dim / heads[0];
        if (valueDim != headDim) throw keys.Unsupported("attention.value_length", $"value head size {valueDim} differs from key head size {headDim}; that is not supported");
        var ropeDims = keys.Optional("rope.dimension_count") ?? headDim;
        // llama.cpp refuses partial rotary for llama/deci; we run it (our tests use such files), rotating the leading dims.

        var embedding = gguf.TryGetTensor(LlamaTensorNames.TokenEmbedding, out var e) ? e : null;
        var vocab = keys.Optional("vocab_size") ?? (embedding is { Shape.Length: 2 } ? (int)embedding.Shape[1] : vocabularyCount);
        static int[]? PerLayerOrNull(int[] values) => values.Distinct().Count() == 1 ? null : values;
        var explicitHeadDim = m.Contains($"{name}.attention.key_length") || heads.Distinct().Count() > 1 || headDim * heads.Max() != dim;
        var ropeBase = (float?)m.GetNumber($"{name}.rope.freq_base") ?? 10000f;
        var config = new LlamaConfig
        {
            Architecture = arch,
            ContextLength = keys.Required("context_length"),
            EmbeddingLength = dim,
            BlockCount = layers,
            FeedForwardLength = ff.Max(),
            HeadCount = heads.Max(),
            KvHeadCount = kvHeads.Max(),
            LayerHeadCounts = PerLayerOrNull(heads),
            LayerKvHeadCounts = PerLayerOrNull(kvHeads),
            LayerFeedForwardLengths = PerLayerOrNull(ff),
            VocabSize = vocab,
            RmsEpsilon = (float?)m.GetNumber($"{name}.attention.layer_norm_rms_epsilon") ?? throw m.Missing($"{name}.attention.layer_norm_rms_epsilon"),
            RopeBase = ropeBase,
            RopeDimensionCount = ropeDims,
            RopeScaling = ReadRopeScaling(gguf, keys, arch),
            TiedOutput = !gguf.TryGetTensor(LlamaTensorNames.Output, out _),
        };
        if (explicitHeadDim) config = config with { HeadDim = headDim };
        if (arch.IsGemma()) config = Gemma(config, keys);
        return WithFamilyRules(config).Validate(gguf.Path, m.EndOffset);
    }

    /// <summary>gemma2/gemma3 keys (llama.cpp's LLM_ARCH_GEMMA2/3 cases): the window, and gemma2's soft-caps with their defaults.</summary>
    private static LlamaConfig Gemma(LlamaConfig c, Keys keys)
    {
        var m = keys.Gguf.Metadata;
        var name = c.Architecture.Name();
        if (c.Architecture == ModelArchitecture.Gemma2)
        {
            return c with
            {
                SlidingWindow = keys.Optional("attention.sliding_window") ?? 4096,
                AttentionLogitSoftcap = (float?)m.GetNumber($"{name}.attn_logit_softcapping") ?? 50f,
                FinalLogitSoftcap = (float?)m.GetNumber($"{name}.final_logit_softcapping") ?? 30f,
            };
        }
        // Without a window llama.cpp builds gemma3 another graph (final soft-capping) that we do not run.
        var window = keys.Optional("attention.sliding_window");
        if (window is null or 0) throw keys.Unsupported("attention.sliding_window", "gemma3 without a sliding window is not supported");
        return c with { SlidingWindow = window };
    }

    /// <summary>
    /// The choices a family fixes rather than its keys: RoPE pairing, activation, and for gemma the embedding scale
    /// sqrt(dim), the query scale (gemma_pytorch: dim / heads for the 27B models, 46 gemma2 / 62 gemma3 layers, else
    /// the head size), which layers are windowed (gemma2: every other one from layer 0, set_swa_pattern(2); gemma3:
    /// five of every six, set_swa_pattern(6)) and gemma3's local RoPE base 10000. Presets build configs through it too.
    /// </summary>
    public static LlamaConfig WithFamilyRules(LlamaConfig c)
    {
        var arch = c.Architecture;
        c = c with { RopeStyle = arch.RopeStyleOf(), Activation = arch.ActivationOf() };
        if (!arch.IsGemma()) return c;
        var is27B = arch == ModelArchitecture.Gemma2 ? c.BlockCount == 46 : c.BlockCount == 62;
        var pattern = arch == ModelArchitecture.Gemma2 ? 2 : 6;
        c = c with
        {
            EmbeddingScale = MathF.Sqrt(c.EmbeddingLength),
            AttentionScale = is27B ? 1f / MathF.Sqrt(c.EmbeddingLength / c.HeadCountOf(0)) : 1f / MathF.Sqrt(c.HeadDim),
            SlidingWindowLayers = Enumerable.Range(0, c.BlockCount).Select(l => l % pattern < pattern - 1).ToArray(),
        };
        return arch == ModelArchitecture.Gemma3 ? c with { LocalRopeBase = 10000f } : c;
    }

    /// <summary>
    /// rope.scaling.* as llama.cpp reads them: no type key means "linear", a factor of 0 or none means no scaling;
    /// phi3's LongRoPE is the presence of rope_factors_long/short (its converter writes no type).
    /// </summary>
    private static RopeScaling ReadRopeScaling(GgufFile gguf, Keys keys, ModelArchitecture arch)
    {
        var m = gguf.Metadata;
        var name = arch.Name();
        var type = m.GetString($"{name}.rope.scaling.type") ?? "linear";
        var factor = (float?)(m.GetNumber($"{name}.rope.scaling.factor") ?? m.GetNumber($"{name}.rope.scale_linear")) ?? 0f;
        var scaling = new RopeScaling
        {
            Factor = factor == 0f ? 1f : factor,
            OriginalContextLength = keys.Optional("rope.scaling.original_context_length"),
            AttentionFactor = (float?)m.GetNumber($"{name}.rope.scaling.attn_factor") ?? 1f,
        };
        var hasLongShort = gguf.TryGetTensor(LlamaTensorNames.RopeFactorsLong, out _) || gguf.TryGetTensor(LlamaTensorNames.RopeFactorsShort, out _);
        var longRope = type == "longrope" || arch == ModelArchitecture.Phi3 && hasLongShort && type == "linear";
        var kind = type switch
        {
            _ when longRope => RopeScalingType.LongRope,
            "none" => RopeScalingType.None,
            "linear" => scaling.Factor == 1f ? RopeScalingType.None : RopeScalingType.Linear,
            "yarn" => RopeScalingType.Yarn,
            _ => throw keys.Unsupported("rope.scaling.type", $"RoPE scaling type '{type}' is not supported (none, linear, yarn, longrope are)"),
        };
        if (kind == RopeScalingType.LongRope && arch is not (ModelArchitecture.Phi3 or ModelArchitecture.Deci))
            throw keys.Unsupported("rope.scaling.type", $"LongRoPE scaling is not supported for {name}");
        return kind == RopeScalingType.None && scaling.AttentionFactor == 1f && scaling.OriginalContextLength is null
            ? RopeScaling.None
            : scaling with { Type = kind };
    }

    /// <summary>Typed access to one architecture's keys, with errors that name the key and its offset.</summary>
    private sealed class Keys(GgufFile gguf, string arch)
    {
        public GgufFile Gguf => gguf;

        public int Required(string key)
        {
            var v = Optional(key) ?? throw gguf.Metadata.Missing($"{arch}.{key}");
            return v > 0 ? v : throw OutOfRange(key, v);
        }

        public int? Optional(string key)
        {
            var v = gguf.Metadata.GetInteger($"{arch}.{key}");
            if (v is null) return null;
            if (v < 0 || v > int.MaxValue) throw OutOfRange(key, v.Value);
            return (int)v;
        }

        /// <summary>A key that may be one number or an array of one per layer (llama.cpp's get_key_or_arr).</summary>
        public int[]? PerLayer(string key, int layers)
        {
            if (!gguf.Metadata.TryGet($"{arch}.{key}", out var value)) return null;
            if (value.Value is not GgufArray array) return Enumerable.Repeat(Optional(key)!.Value, layers).ToArray();
            if (array.Count != layers)
                throw new ModelFormatException($"{arch}.{key} has {array.Count} values for {layers} layers", gguf.Metadata.OffsetOf($"{arch}.{key}"), gguf.Path);
            var result = new int[layers];
            for (var l = 0; l < layers; l++)
            {
                var item = new GgufValue(array.ElementType, array.Items.GetValue(l)!);
                if (!item.TryGetInt64(out var n)) throw new ModelFormatException($"{arch}.{key} is an array of {array.ElementType}, expected integers", gguf.Metadata.OffsetOf($"{arch}.{key}"), gguf.Path);
                if (n < 0 || n > int.MaxValue) throw OutOfRange(key, n);
                result[l] = (int)n;
            }
            return result;
        }

        public ModelFormatException Unsupported(string key, string message) =>
            new(message, gguf.Metadata.OffsetOf($"{arch}.{key}"), gguf.Path);

        private ModelFormatException OutOfRange(string key, long v) =>
            new($"{arch}.{key} = {v} is out of range", gguf.Metadata.OffsetOf($"{arch}.{key}"), gguf.Path);
    }
}
