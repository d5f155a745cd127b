using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model;

/// <summary>
/// The weights of a Llama decoder, named as in llama2.c's run.c. A matrix of shape [In, Out] (ggml order)
/// holds Out rows of In contiguous values, so y = W x is one dot product per row.
/// </summary>
public sealed class LlamaWeights
{
    /// <summary>(vocab, dim): token_embd.weight.</summary>
    public required TensorView TokenEmbedding { get; init; }

    /// <summary>(dim,): output_norm.weight.</summary>
    public required TensorView RmsFinalWeight { get; init; }

    /// <summary>(vocab, dim): output.weight, or the token embedding when tied.</summary>
    public required TensorView Classifier { get; init; }

    /// <summary>(head_dim/2,): optional rope_freqs.weight, dividing each RoPE frequency (Llama 3.1 scaling).</summary>
    public TensorView? RopeFrequencyFactors { get; init; }

    /// <summary>(rope_dims/2,): phi3's rope_factors_long.weight / rope_factors_short.weight (LongRoPE).</summary>
    public TensorView? RopeFactorsLong { get; init; }

    public TensorView? RopeFactorsShort { get; init; }

    public required LayerWeights[] Layers { get; init; }

    public IEnumerable<TensorView> All()
    {
        yield return TokenEmbedding;
        foreach (var l in Layers)
            foreach (var t in l.All()) yield return t;
        yield return RmsFinalWeight;
        if (!ReferenceEquals(Classifier, TokenEmbedding)) yield return Classifier;
        if (RopeFrequencyFactors is not null) yield return RopeFrequencyFactors;
        if (RopeFactorsLong is not null) yield return RopeFactorsLong;
        if (RopeFactorsShort is not null) yield return RopeFactorsShort;
    }
}

/// <summary>One transformer block.</summary>
public sealed class LayerWeights
{
    /// <summary>(dim,): blk.N.attn_norm.weight.</summary>
    public required TensorView RmsAttWeight { get; init; }

    /// <summary>(n_heads * head_size, dim): blk.N.attn_q.weight.</summary>
    public required TensorView Wq { get; init; }

    /// <summary>(n_kv_heads * head_size, dim): blk.N.attn_k.weight.</summary>
    public required TensorView Wk { get; init; }

    /// <summary>(n_kv_heads * head_size, dim): blk.N.attn_v.weight.</summary>
    public required TensorView Wv { get; init; }

    /// <summary>(dim, n_heads * head_size): blk.N.attn_output.weight.</summary>
    public required TensorView Wo { get; init; }

    /// <summary>(dim,): blk.N.ffn_norm.weight.</summary>
    public required TensorView RmsFfnWeight { get; init; }

    /// <summary>(hidden_dim, dim): blk.N.ffn_gate.weight.</summary>
    public required TensorView W1 { get; init; }

    /// <summary>(dim, hidden_dim): blk.N.ffn_down.weight.</summary>
    public required TensorView W2 { get; init; }

    /// <summary>(hidden_dim, dim): blk.N.ffn_up.weight.</summary>
    public required TensorView W3 { get; init; }

    /// <summary>(n_heads * head_size,), (kv_dim,), (kv_dim,): blk.N.attn_q/k/v.bias (qwen2), added after the projection.</summary>
    public TensorView? Bq { get; init; }

    public TensorView? Bk { get; init; }

    public TensorView? Bv { get; init; }

    /// <summary>(head_size,): blk.N.attn_q_norm.weight / attn_k_norm.weight (qwen3, gemma3): RMSNorm of each head before RoPE.</summary>
    public TensorView? QNorm { get; init; }

    public TensorView? KNorm { get; init; }

    /// <summary>(dim,): blk.N.post_attention_norm.weight (gemma2/3): RMSNorm of the attention output before the residual add.</summary>
    public TensorView? PostAttentionNorm { get; init; }

    /// <summary>(dim,): blk.N.post_ffw_norm.weight (gemma2/3): RMSNorm of the feed-forward output before the residual add.</summary>
    public TensorView? PostFeedForwardNorm { get; init; }

    /// <summary>Every tensor of the block, the optional ones that are present included.</summary>
    public IEnumerable<TensorView> All()
    {
        TensorView?[] all = [RmsAttWeight, Wq, Wk, Wv, Wo, RmsFfnWeight, W1, W2, W3, Bq, Bk, Bv, QNorm, KNorm, PostAttentionNorm, PostFeedForwardNorm];
        return all.OfType<TensorView>();
    }
}
