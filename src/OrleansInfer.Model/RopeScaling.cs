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
    /// <summary>
    /// The table of <paramref name="layer"/>, as ggml's rope (ggml-cpu ops.cpp rope_yarn) computes it with llama.cpp's
    /// parameters: theta_i = base^(-2i/n_rot) / factor_i (rope_freqs, or LongRoPE's long/short factors);
    /// freq_scale = 1/rope.scaling.factor (1 for no scaling and on gemma3's windowed layers, which also use base
    /// 10000); YaRN (ext_factor 1 unless the keys say) blends freq_scale*theta and theta by a ramp over the pair index
    /// between the correction dims of beta_fast/beta_slow at the original context, and multiplies the magnitude by
    /// 1 + 0.1 ln(1/freq_scale); the magnitude also carries rope.scaling.attn_factor (phi3 LongRoPE's factor).
    /// </summary>
    /// <param name="c">The model's configuration.</param>
    /// <param name="w">Its weights (rope_freqs, rope_factors_long/short).</param>
    /// <param name="layer">The layer (gemma3's windowed layers have their own base).</param>
    /// <param name="contextLength">
    /// Tokens per sequence the model runs with (llama.cpp's n_ctx_seq): LongRoPE takes the long factors when it
    /// exceeds the original context, the short ones otherwise. Null: the file's context length.
    /// </param>
    public static RopeTable For(LlamaConfig c, LlamaWeights w, int layer, int? contextLength = null)
    {
        var dims = c.RopeDimensionCount;
        var scaling = c.RopeScaling;
        var local = c.IsSlidingWindowLayer(layer) && c.LocalRopeBase is not null;
        var ropeBase = local ? c.LocalRopeBase!.Value : c.RopeBase;
        var freqScale = scaling.Type == RopeScalingType.None || local ? 1f : 1f / scaling.Factor;
        var ext = scaling.ExtFactor ?? (scaling.Type == RopeScalingType.Yarn ? 1f : 0f);
        var originalContext = scaling.OriginalContextLength ?? c.ContextLength;
        var factors = FrequencyFactors(c, w, contextLength ?? c.ContextLength, originalContext)?.ToFloatArray();

        var scale = scaling.AttentionFactor;
        var (low, high) = (0f, 0f);
        if (ext != 0f)
        {
            scale *= 1f + 0.1f * MathF.Log(1f / freqScale);
            (low, high) = YarnCorrectionDims(dims, originalContext, ropeBase, scaling.BetaFast, scaling.BetaSlow);
        }

        var freqs = new float[dims / 2];
        for (var i = 0; i < freqs.Length; i++)
        {
            var theta = 1f / MathF.Pow(ropeBase, 2 * i / (float)dims);
            if (factors is not null && i < factors.Length) theta /= factors[i];
            var interpolated = freqScale * theta;
            if (ext == 0f)
            {
                freqs[i] = interpolated;
                continue;
            }
            var mix = YarnRamp(low, high, i) * ext;
            freqs[i] = interpolated * (1 - mix) + theta * mix;
        }
        return new RopeTable(freqs, scale);
    }

    /// <summary>llama.cpp's get_rope_factors: rope_freqs if present, else LongRoPE's long factors beyond the original context, else the short ones.</summary>
    private static Tensors.TensorView? FrequencyFactors(LlamaConfig c, LlamaWeights w, int contextLength, int originalContext)
    {
        if (w.RopeFrequencyFactors is { } f) return f;
        if (c.RopeScaling.Type != RopeScalingType.LongRope) return null;
        return contextLength > originalContext ? w.RopeFactorsLong : w.RopeFactorsShort;
    }

    /// <summary>ggml_rope_yarn_corr_dims: the pair-index range over which YaRN moves from extrapolation to interpolation.</summary>
    public static (float Low, float High) YarnCorrectionDims(int dims, int originalContext, float ropeBase, float betaFast, float betaSlow)
    {
        float CorrDim(float rotations) => dims * MathF.Log(originalContext / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(ropeBase));
        var start = MathF.Floor(CorrDim(betaFast));
        var end = MathF.Ceiling(CorrDim(betaSlow));
        return (MathF.Max(0, start), MathF.Min(dims - 1, end));
    }

    /// <summary>rope_yarn_ramp: 1 below <paramref name="low"/> (extrapolate), 0 above <paramref name="high"/> (interpolate).</summary>
    public static float YarnRamp(float low, float high, int pair)
    {
        var y = (pair - low) / MathF.Max(0.001f, high - low);
        return 1 - MathF.Min(1, MathF.Max(0, y));
    }
}
