namespace OrleansInfer.Model;

/// <summary>
/// Hyper-parameters of a Llama-family decoder (the <c>ARCH.*</c> GGUF keys, or a llama2.c header), as llama.cpp's
/// llama_hparams covers every family with one record. Defaults are plain Llama; the other families switch features on.
/// Per-layer values (DeciLM) are read through <see cref="HeadCountOf"/>, <see cref="KvHeadCountOf"/> and
/// <see cref="FeedForwardLengthOf"/>; the scalar counts are then the maxima over layers (buffers are sized by them).
/// </summary>
public sealed record LlamaConfig
{
    private readonly int? _headDim;
    private readonly float? _attentionScale;

    public ModelArchitecture Architecture { get; init; } = ModelArchitecture.Llama;

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

    /// <summary>Per-head size (<c>attention.key_length</c>; dim / heads when absent). Qwen3 and Gemma set it apart from the width.</summary>
    public int HeadDim
    {
        get => _headDim ?? EmbeddingLength / HeadCount;
        init => _headDim = value;
    }

    /// <summary>Width of all query heads (n_heads * head_size): the rows of Wq, the columns of Wo.</summary>
    public int QueryDim => HeadCount * HeadDim;

    /// <summary>Width of all KV heads of the widest layer.</summary>
    public int KvDim => KvHeadCount * HeadDim;

    /// <summary>Query heads per key/value head (uniform models; per layer: <see cref="HeadCountOf"/> / <see cref="KvHeadCountOf"/>).</summary>
    public int GroupSize => HeadCount / KvHeadCount;

    public RopeStyle RopeStyle { get; init; } = RopeStyle.Normal;

    public RopeScaling RopeScaling { get; init; } = RopeScaling.None;

    /// <summary>RoPE base of sliding-window layers when it differs from <see cref="RopeBase"/> (gemma3: 10000).</summary>
    public float? LocalRopeBase { get; init; }

    /// <summary>Tokens a sliding-window layer attends to, its own included (<c>attention.sliding_window</c>).</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Which layers use <see cref="SlidingWindow"/> (null: none).</summary>
    public bool[]? SlidingWindowLayers { get; init; }

    /// <summary>Multiplier of q·k (1/sqrt(head size) unless the family says otherwise).</summary>
    public float AttentionScale
    {
        get => _attentionScale ?? 1f / MathF.Sqrt(HeadDim);
        init => _attentionScale = value;
    }

    /// <summary>Attention scores become cap * tanh(score / cap) (gemma2).</summary>
    public float? AttentionLogitSoftcap { get; init; }

    /// <summary>Logits become cap * tanh(logit / cap) (gemma2).</summary>
    public float? FinalLogitSoftcap { get; init; }

    /// <summary>The embedding row is multiplied by this (gemma: sqrt(dim)).</summary>
    public float EmbeddingScale { get; init; } = 1f;

    public FeedForwardActivation Activation { get; init; } = FeedForwardActivation.Silu;

    /// <summary>Per-layer query head counts (deci), or null when every layer has <see cref="HeadCount"/>.</summary>
    public int[]? LayerHeadCounts { get; init; }

    /// <summary>Per-layer KV head counts (deci), or null when every layer has <see cref="KvHeadCount"/>.</summary>
    public int[]? LayerKvHeadCounts { get; init; }

    /// <summary>Per-layer feed-forward widths (deci), or null when every layer has <see cref="FeedForwardLength"/>.</summary>
    public int[]? LayerFeedForwardLengths { get; init; }

    public int HeadCountOf(int layer) => LayerHeadCounts?[layer] ?? HeadCount;

    public int KvHeadCountOf(int layer) => LayerKvHeadCounts?[layer] ?? KvHeadCount;

    public int KvDimOf(int layer) => KvHeadCountOf(layer) * HeadDim;

    public int FeedForwardLengthOf(int layer) => LayerFeedForwardLengths?[layer] ?? FeedForwardLength;

    public bool IsSlidingWindowLayer(int layer) => SlidingWindow is not null && SlidingWindowLayers is { } l && l[layer];

    /// <summary>Parameters of the weight matrices, biases and norms (the embedding counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            long d = EmbeddingLength, hd = HeadDim, total = 0;
            for (var l = 0; l < BlockCount; l++)
            {
                long q = HeadCountOf(l) * hd, kv = KvDimOf(l), h = FeedForwardLengthOf(l);
                total += 2 * d * q + 2 * d * kv + 3 * d * h + 2 * d;
                if (Architecture.HasQkvBiases()) total += q + 2 * kv;
                if (Architecture.HasQkNorms()) total += 2 * hd;
                if (Architecture.HasPostNorms()) total += 2 * d;
            }
            return total + (long)VocabSize * d * (TiedOutput ? 1 : 2) + d;
        }
    }

    /// <summary>
    /// One line for humans: "dim 768, 12 layers, 12 heads (12 KV), hidden 2048, vocab 32000, context 1024"; other
    /// families are named first and add what sets them apart (head size, per-layer ranges, sliding window).
    /// </summary>
    public string Describe()
    {
        static string Range(int[]? perLayer, int max) => perLayer is null || perLayer.Min() == max ? $"{max}" : $"{perLayer.Min()}-{max}";
        var kv = Range(LayerKvHeadCounts, KvHeadCount);
        var hidden = Range(LayerFeedForwardLengths, FeedForwardLength);
        var heads = Range(LayerHeadCounts, HeadCount);
        var text = $"dim {EmbeddingLength}, {BlockCount} layers, {heads} heads ({kv} KV), hidden {hidden}, vocab {VocabSize}, context {ContextLength}";
        if (Architecture == ModelArchitecture.Llama && HeadDim * HeadCount == EmbeddingLength && SlidingWindow is null) return text;
        var extra = HeadDim * HeadCount == EmbeddingLength ? "" : $", head size {HeadDim}";
        if (SlidingWindow is { } w) extra += $", window {w} on {Enumerable.Range(0, BlockCount).Count(IsSlidingWindowLayer)} layers";
        return $"{Architecture.Name()}: {text}{extra}";
    }

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
        Require(HeadCount > 0 && (_headDim is not null || EmbeddingLength % HeadCount == 0), $"head count {HeadCount} does not divide embedding length {EmbeddingLength}");
        Require(HeadDim > 0, $"head size {HeadDim}");
        Require(KvHeadCount > 0 && ((LayerHeadCounts ?? LayerKvHeadCounts) is not null || HeadCount % KvHeadCount == 0), $"KV head count {KvHeadCount} does not divide head count {HeadCount}");
        foreach (var (perLayer, what) in new[] { (LayerHeadCounts, "head counts"), (LayerKvHeadCounts, "KV head counts"), (LayerFeedForwardLengths, "feed-forward lengths") })
            Require(perLayer is null || perLayer.Length == BlockCount, $"{perLayer?.Length} per-layer {what} for {BlockCount} layers");
        for (var l = 0; l < BlockCount; l++)
        {
            Require(HeadCountOf(l) > 0 && HeadCountOf(l) <= HeadCount, $"layer {l} head count {HeadCountOf(l)} (maximum {HeadCount})");
            Require(KvHeadCountOf(l) > 0 && KvHeadCountOf(l) <= KvHeadCount && HeadCountOf(l) % KvHeadCountOf(l) == 0, $"layer {l} KV head count {KvHeadCountOf(l)} does not divide its head count {HeadCountOf(l)}");
            Require(FeedForwardLengthOf(l) > 0 && FeedForwardLengthOf(l) <= FeedForwardLength, $"layer {l} feed-forward length {FeedForwardLengthOf(l)} (maximum {FeedForwardLength})");
        }
        Require(SlidingWindow is null || SlidingWindow > 0 && SlidingWindowLayers?.Length == BlockCount, $"sliding window {SlidingWindow} over {SlidingWindowLayers?.Length} layer flags");
        Require(VocabSize > 0, $"vocab size {VocabSize}");
        Require(RopeDimensionCount > 0 && RopeDimensionCount % 2 == 0 && RopeDimensionCount <= HeadDim, $"RoPE dimension count {RopeDimensionCount} (head size {HeadDim})");
        Require(float.IsFinite(RmsEpsilon) && RmsEpsilon > 0, $"RMS epsilon {RmsEpsilon}");
        Require(float.IsFinite(RopeBase) && RopeBase > 0, $"RoPE base {RopeBase}");
        return this;
    }
}
