using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Quantization;

/// <summary>One tensor's type in a quantized file.</summary>
/// <param name="Name">GGUF tensor name.</param>
/// <param name="Shape">Dimensions, ggml order (row length first).</param>
/// <param name="Type">The type it is stored as.</param>
/// <param name="Quantizable">Whether the mix may change its type at all (2-D weights that are not norms).</param>
/// <param name="FallbackFrom">The type the mix wanted when the rows are not whole blocks of it, else null.</param>
public sealed record TensorChoice(string Name, long[] Shape, GgmlType Type, bool Quantizable, GgmlType? FallbackFrom)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    public long Bytes => GgmlTypeInfo.ByteCount(Type, Elements);
}

/// <summary>
/// llama.cpp's per-tensor type choice (llama_tensor_get_type in src/llama-quant.cpp) for the Llama architecture and
/// the mixes of <see cref="QuantizationMix"/>: the output matrix (or the tied embedding) at Q6_K unless its rows are
/// not whole 256-blocks (then Q8_0); attn_v and ffn_down at Q6_K on the layers use_more_bits picks for Q4_K_M and
/// Q5_K_M; then the fallback for rows that are not whole blocks (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, Q2_K/Q3_K →
/// Q4_0, and F16 when even that does not fit). Norms and other 1-D tensors stay F32. Layers are counted in
/// llama.cpp's order (numeric layer order; its loader sorts weights by layer).
/// </summary>
public static class QuantizationRecipe
{
    /// <summary>The type of every tensor of a Llama model of <paramref name="config"/> in llama.cpp's file order.</summary>
    public static IReadOnlyList<TensorChoice> Choose(LlamaConfig config, QuantizationMix mix) =>
        Choose(config, LlamaTensorNames.Expected(config), mix);

    /// <summary>The type of each of <paramref name="tensors"/> (name, shape in ggml order) under <paramref name="mix"/>.</summary>
    public static IReadOnlyList<TensorChoice> Choose(LlamaConfig config, IEnumerable<(string Name, long[] Shape)> tensors, QuantizationMix mix)
    {
        // The recipe is llama.cpp's for the llama architecture; other families have their own rules there.
        if (config.Architecture != ModelArchitecture.Llama)
            throw new NotSupportedException($"quantization recipes cover the llama architecture only, not {config.Architecture.Name()}");
        var list = tensors.ToList();
        var state = new State(config, list.Count(t => Category(t.Name) == TensorCategory.AttentionV), !list.Any(t => t.Name == LlamaTensorNames.Output));
        var defaultType = QuantizationMixes.DefaultType(mix);
        var result = new List<TensorChoice>(list.Count);
        foreach (var (name, shape) in list)
        {
            if (!Quantizable(name, shape))
            {
                result.Add(new TensorChoice(name, shape, GgmlType.F32, false, null));
                continue;
            }
            if (!QuantizationMixes.IsQuantized(defaultType))
            {
                result.Add(new TensorChoice(name, shape, defaultType, true, null));
                continue;
            }
            var wanted = MixType(state, defaultType, name, shape, mix);
            var stored = StorageType(wanted, shape[0]);
            result.Add(new TensorChoice(name, shape, stored, true, stored == wanted ? null : wanted));
        }
        return result;
    }

    /// <summary>llama.cpp quantizes 2-D (and larger) tensors named *weight that are not norms (tensor_allows_quantization).</summary>
    public static bool Quantizable(string name, long[] shape) =>
        shape.Length >= 2 && name.EndsWith("weight", StringComparison.Ordinal)
        && !name.Contains("_norm.weight", StringComparison.Ordinal) && !name.Contains("ffn_gate_inp.weight", StringComparison.Ordinal);

    /// <summary>
    /// The type rows of <paramref name="columns"/> values are stored as when <paramref name="wanted"/> is asked for
    /// (tensor_type_fallback). llama.cpp refuses the types it defines no fallback for (q4_0, q8_0, ...) on such rows;
    /// here they become F16, as <see cref="LlamaGguf.StorageType"/> does.
    /// </summary>
    public static GgmlType StorageType(GgmlType wanted, long columns)
    {
        if (columns % GgmlTypeInfo.BlockSize(wanted) == 0) return wanted;
        var fallback = wanted switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return columns % GgmlTypeInfo.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }

    /// <summary>llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between.</summary>
    public static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    private static GgmlType MixType(State s, GgmlType type, string name, long[] shape, QuantizationMix mix)
    {
        var category = Category(name);
        if (category == TensorCategory.Output || (s.TiedEmbedding && category == TensorCategory.TokenEmbedding))
        {
            // The classifier: Q8_0 when its rows are not whole blocks of the default type, else at least Q6_K.
            if (shape[0] % GgmlTypeInfo.BlockSize(type) != 0) return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }

        switch (category)
        {
            case TensorCategory.AttentionV:
            {
                var layer = s.AttentionV++;
                if ((mix is QuantizationMix.Q4_K_M or QuantizationMix.Q5_K_M) && UseMoreBits(layer, s.AttentionVCount)) type = GgmlType.Q6_K;
                // llama.cpp's 70B (80 layers, grouped KV heads): attn_v is 8x smaller than attn_q, so more bits cost little.
                if (s.Is70B && type is GgmlType.Q3_K or GgmlType.Q4_K) type = GgmlType.Q5_K;
                return type;
            }
            case TensorCategory.FfnDown:
            {
                var layer = s.FfnDown++;
                if ((mix is QuantizationMix.Q4_K_M or QuantizationMix.Q5_K_M) && UseMoreBits(layer, s.Config.BlockCount)) type = GgmlType.Q6_K;
                return type;
            }
            default:
                return type;
        }
    }

    private static TensorCategory Category(string name)
    {
        if (name == LlamaTensorNames.Output) return TensorCategory.Output;
        if (name == LlamaTensorNames.TokenEmbedding) return TensorCategory.TokenEmbedding;
        if (name.Contains("attn_v.weight", StringComparison.Ordinal)) return TensorCategory.AttentionV;
        if (name.Contains("ffn_down", StringComparison.Ordinal)) return TensorCategory.FfnDown;
        return TensorCategory.Other;
    }

    private enum TensorCategory
    {
        TokenEmbedding,
        Output,
        AttentionV,
        FfnDown,
        Other,
    }

    /// <summary>llama.cpp's quantize_state: counters of the tensors seen so far per category.</summary>
    private sealed class State(LlamaConfig config, int attentionVCount, bool tiedEmbedding)
    {
        public LlamaConfig Config { get; } = config;
        public int AttentionVCount { get; } = attentionVCount;
        public bool TiedEmbedding { get; } = tiedEmbedding;
        public bool Is70B { get; } = config.BlockCount == 80 && config.HeadCount != config.KvHeadCount;
        public int AttentionV { get; set; }
        public int FfnDown { get; set; }
    }
}
