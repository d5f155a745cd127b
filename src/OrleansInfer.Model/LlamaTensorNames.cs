namespace OrleansInfer.Model;

/// <summary>Optional global RoPE tensors a file holds besides the family's required tensors.</summary>
[Flags]
public enum RopeTensors
{
    None = 0,

    /// <summary>rope_freqs.weight (llama3-style frequency factors).</summary>
    Frequencies = 1,

    /// <summary>rope_factors_long.weight and rope_factors_short.weight (phi3 LongRoPE).</summary>
    LongShort = 2,
}

/// <summary>GGUF tensor names (llama.cpp's llama-arch.cpp) of every family we read and write.</summary>
public static class LlamaTensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    public const string RopeFrequencies = "rope_freqs.weight";
    public const string RopeFactorsLong = "rope_factors_long.weight";
    public const string RopeFactorsShort = "rope_factors_short.weight";

    public static string AttnNorm(int layer) => $"blk.{layer}.attn_norm.weight";
    public static string Wq(int layer) => $"blk.{layer}.attn_q.weight";
    public static string Wk(int layer) => $"blk.{layer}.attn_k.weight";
    public static string Wv(int layer) => $"blk.{layer}.attn_v.weight";
    public static string Wo(int layer) => $"blk.{layer}.attn_output.weight";
    public static string FfnNorm(int layer) => $"blk.{layer}.ffn_norm.weight";
    public static string W1(int layer) => $"blk.{layer}.ffn_gate.weight";
    public static string W2(int layer) => $"blk.{layer}.ffn_down.weight";
    public static string W3(int layer) => $"blk.{layer}.ffn_up.weight";
    public static string Bq(int layer) => $"blk.{layer}.attn_q.bias";
    public static string Bk(int layer) => $"blk.{layer}.attn_k.bias";
    public static string Bv(int layer) => $"blk.{layer}.attn_v.bias";
    public static string QNorm(int layer) => $"blk.{layer}.attn_q_norm.weight";
    public static string KNorm(int layer) => $"blk.{layer}.attn_k_norm.weight";
    public static string PostAttentionNorm(int layer) => $"blk.{layer}.post_attention_norm.weight";
    public static string PostFeedForwardNorm(int layer) => $"blk.{layer}.post_ffw_norm.weight";

    /// <summary>phi3's fused (q_dim + 2 kv_dim, dim) projection.</summary>
    public static string Qkv(int layer) => $"blk.{layer}.attn_qkv.weight";

    /// <summary>phi3's fused (2 hidden, dim) gate-then-up projection (the file name is ffn_up).</summary>
    public static string GateUp(int layer) => W3(layer);

    /// <summary>
    /// Names of the row slices the loader cuts from phi3's fused tensors ("blk.N.attn_qkv.weight[q]", "[k]", "[v]";
    /// "blk.N.ffn_up.weight[gate]", "[up]"): unique in the model, and the writer reassembles the file tensor from them.
    /// </summary>
    public static string Slice(string fused, string part) => $"{fused}[{part}]";

    /// <summary>The slices of a fused file tensor in row order, or null when <paramref name="name"/> is not fused in <paramref name="c"/>.</summary>
    public static string[]? FusedParts(LlamaConfig c, string name)
    {
        if (!c.Architecture.FusesQkvAndGateUp()) return null;
        for (var l = 0; l < c.BlockCount; l++)
        {
            if (name == Qkv(l)) return [Slice(name, "q"), Slice(name, "k"), Slice(name, "v")];
            if (name == GateUp(l)) return [Slice(name, "gate"), Slice(name, "up")];
        }
        return null;
    }

    /// <summary>
    /// Expected shapes (ggml order: [columns, rows]) of every tensor of a model, in llama.cpp's file order; phi3's
    /// Q/K/V are one attn_qkv unless <paramref name="separateQkv"/> (llama.cpp accepts both).
    /// </summary>
    public static IEnumerable<(string Name, long[] Shape)> Expected(LlamaConfig c, RopeTensors rope = RopeTensors.None, bool separateQkv = false)
    {
        var arch = c.Architecture;
        long d = c.EmbeddingLength, v = c.VocabSize, hd = c.HeadDim;
        yield return (TokenEmbedding, [d, v]);
        for (var i = 0; i < c.BlockCount; i++)
        {
            long q = c.HeadCountOf(i) * hd, kv = c.KvDimOf(i), h = c.FeedForwardLengthOf(i);
            yield return (AttnNorm(i), [d]);
            if (arch.FusesQkvAndGateUp() && !separateQkv)
            {
                yield return (Qkv(i), [d, q + 2 * kv]);
            }
            else
            {
                yield return (Wq(i), [d, q]);
                yield return (Wk(i), [d, kv]);
                yield return (Wv(i), [d, kv]);
            }
            if (arch.HasQkvBiases())
            {
                yield return (Bq(i), [q]);
                yield return (Bk(i), [kv]);
                yield return (Bv(i), [kv]);
            }
            if (arch.HasQkNorms())
            {
                yield return (QNorm(i), [hd]);
                yield return (KNorm(i), [hd]);
            }
            yield return (Wo(i), [q, d]);
            if (arch.HasPostNorms()) yield return (PostAttentionNorm(i), [d]);
            yield return (FfnNorm(i), [d]);
            if (arch.FusesQkvAndGateUp())
            {
                yield return (W2(i), [h, d]);
                yield return (GateUp(i), [d, 2 * h]);
            }
            else
            {
                yield return (W1(i), [d, h]);
                yield return (W2(i), [h, d]);
                yield return (W3(i), [d, h]);
            }
            if (arch.HasPostNorms()) yield return (PostFeedForwardNorm(i), [d]);
        }
        yield return (OutputNorm, [d]);
        if (!c.TiedOutput) yield return (Output, [d, v]);
        if (rope.HasFlag(RopeTensors.Frequencies)) yield return (RopeFrequencies, [c.RopeDimensionCount / 2]);
        if (rope.HasFlag(RopeTensors.LongShort))
        {
            yield return (RopeFactorsLong, [c.RopeDimensionCount / 2]);
            yield return (RopeFactorsShort, [c.RopeDimensionCount / 2]);
        }
    }
}
