namespace OrleansInfer.Model;

/// <summary>Hyper-parameters of a Llama-architecture decoder (the `llama.*` GGUF keys, or a llama2.c header).</summary>
public sealed record LlamaConfig
{
    /// <summary>Maximum sequence length the model was built for.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Model width (dim).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of transformer layers.</summary>
    public required int BlockCount { get; init; }

    /// <summary>SwiGLU hidden width (hidden_dim).</summary>
    public required int FeedForwardLength { get; init; }

    public required int HeadCount { get; init; }

    /// <summary>Key/value heads; fewer than <see cref="HeadCount"/> means grouped-query attention.</summary>
    public required int KvHeadCount { get; init; }

    public required int VocabSize { get; init; }

    public float RmsEpsilon { get; init; } = 1e-5f;

    public float RopeBase { get; init; } = 10000f;

    /// <summary>Leading dimensions of each head that RoPE rotates (the head size unless the file says fewer).</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary>True when the token embedding doubles as the output classifier (no separate output weight).</summary>
    public bool TiedOutput { get; init; }

    public int HeadDim => EmbeddingLength / HeadCount;

    public int KvDim => KvHeadCount * HeadDim;

    /// <summary>Query heads per key/value head.</summary>
    public int GroupSize => HeadCount / KvHeadCount;

    /// <summary>Parameters of the weight matrices and norms (the embedding counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            long d = EmbeddingLength, h = FeedForwardLength, kv = KvDim;
            var perLayer = 2 * d * d + 2 * d * kv + 3 * d * h + 2 * d;
            return BlockCount * perLayer + (long)VocabSize * d * (TiedOutput ? 1 : 2) + d;
        }
    }

    /// <summary>One line for humans: "dim 768, 12 layers, 12 heads (12 KV), hidden 2048, vocab 32000, context 1024".</summary>
    public string Describe() =>
        $"dim {EmbeddingLength}, {BlockCount} layers, {HeadCount} heads ({KvHeadCount} KV), hidden {FeedForwardLength}, vocab {VocabSize}, context {ContextLength}";

    /// <summary>Throws a <see cref="ModelFormatException"/> naming the first inconsistent value.</summary>
    public LlamaConfig Validate(string? path = null, long offset = -1)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ModelFormatException($"invalid model configuration: {what}", offset, path);
        }

        Require(ContextLength > 0, $"context length {ContextLength}");
        Require(EmbeddingLength > 0, $"embedding length {EmbeddingLength}");
        Require(BlockCount > 0, $"block count {BlockCount}");
        Require(FeedForwardLength > 0, $"feed-forward length {FeedForwardLength}");
        Require(HeadCount > 0 && EmbeddingLength % HeadCount == 0, $"head count {HeadCount} does not divide embedding length {EmbeddingLength}");
        Require(KvHeadCount > 0 && HeadCount % KvHeadCount == 0, $"KV head count {KvHeadCount} does not divide head count {HeadCount}");
        Require(VocabSize > 0, $"vocab size {VocabSize}");
        Require(RopeDimensionCount > 0 && RopeDimensionCount % 2 == 0 && RopeDimensionCount <= HeadDim, $"RoPE dimension count {RopeDimensionCount} (head size {HeadDim})");
        Require(float.IsFinite(RmsEpsilon) && RmsEpsilon > 0, $"RMS epsilon {RmsEpsilon}");
        Require(float.IsFinite(RopeBase) && RopeBase > 0, $"RoPE base {RopeBase}");
        return this;
    }
}
