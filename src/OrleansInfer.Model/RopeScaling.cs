namespace OrleansInfer.Model;

/// <summary>How positions are stretched beyond the trained context (the <c>ARCH.rope.scaling.*</c> keys).</summary>
public enum RopeScalingType
{
    None,

    /// <summary>Positions multiplied by 1/factor.</summary>
    Linear,

    /// <summary>YaRN: per-dimension blend of interpolated and extrapolated frequencies, plus a magnitude scale.</summary>
    Yarn,

    /// <summary>Phi-3 LongRoPE: per-dimension factors (rope_factors_long/short) and an attention factor.</summary>
    LongRope,
}

/// <summary>RoPE scaling as the GGUF keys state it. Frequency factor tensors (rope_freqs, rope_factors_*) are in the weights.</summary>
public sealed record RopeScaling
{
    public static RopeScaling None { get; } = new();

    public RopeScalingType Type { get; init; } = RopeScalingType.None;

    /// <summary><c>rope.scaling.factor</c> (1 when absent).</summary>
    public float Factor { get; init; } = 1f;

    /// <summary><c>rope.scaling.original_context_length</c> (the context length when absent).</summary>
    public int? OriginalContextLength { get; init; }

    /// <summary><c>rope.scaling.attn_factor</c> (1 when absent).</summary>
    public float AttentionFactor { get; init; } = 1f;

    /// <summary>YaRN ramp bounds (llama.cpp's defaults 32 and 1).</summary>
    public float BetaFast { get; init; } = 32f;

    public float BetaSlow { get; init; } = 1f;

    /// <summary>YaRN extrapolation mix (llama.cpp: 1 for YaRN unless the keys say otherwise, 0 otherwise).</summary>
    public float? ExtFactor { get; init; }
}

/// <summary>
/// One layer's RoPE: the angle of pair i at position p is p * <see cref="Frequencies"/>[i], and cos/sin are multiplied
/// by <see cref="Scale"/> (YaRN's and LongRoPE's magnitude correction; 1 otherwise). Frequency factors and linear/YaRN
/// scaling are folded into the frequencies, so backends only rotate.
/// </summary>
public sealed record RopeTable(float[] Frequencies, float Scale)
{
    /// <summary>The table of <paramref name="layer"/> for this model (gemma3's sliding-window layers use another base).</summary>
    public static RopeTable For(LlamaConfig c, LlamaWeights w, int layer)
    {
        var dims = c.RopeDimensionCount;
        var ropeBase = c.IsSlidingWindowLayer(layer) && c.LocalRopeBase is { } local ? local : c.RopeBase;
        var factors = w.RopeFrequencyFactors?.ToFloatArray();
        var freqs = new float[dims / 2];
        for (var i = 0; i < freqs.Length; i++)
        {
            freqs[i] = 1f / MathF.Pow(ropeBase, 2 * i / (float)dims);
            if (factors is not null && i < factors.Length) freqs[i] /= factors[i];
        }
        return new RopeTable(freqs, 1f);
    }
}
