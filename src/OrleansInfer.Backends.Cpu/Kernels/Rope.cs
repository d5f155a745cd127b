namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Rotary position embedding of each head's first rope_dims values with a layer's <see cref="OrleansInfer.Model.RopeTable"/>
/// (angle of pair i at position p = p * freq[i]; cos and sin multiplied by the table's scale), on llama.cpp's two pair
/// layouts: NORM (adjacent pairs x[2i], x[2i+1]: llama, deci) and NEOX (halves x[i], x[i + rope_dims/2]: qwen, phi3, gemma).
/// </summary>
internal static unsafe class Rope
{
    /// <summary>Fills cos/sin of pos * freq for each pair, times <paramref name="scale"/> (YaRN / LongRoPE magnitude; 1 otherwise).</summary>
    public static void Angles(int pos, float[] freqs, float scale, float* cos, float* sin)
    {
        for (var i = 0; i < freqs.Length; i++)
        {
            var angle = pos * freqs[i];
            var (s, c) = MathF.SinCos(angle);
            (sin[i], cos[i]) = (s * scale, c * scale);
        }
    }

    /// <summary>Rotates adjacent pairs of the leading values of <paramref name="heads"/> heads of size <paramref name="headDim"/>.</summary>
    public static void Apply(float* v, int heads, int headDim, int pairs, float* cos, float* sin)
    {
        for (var h = 0; h < heads; h++)
        {
            var p = v + h * headDim;
            for (var i = 0; i < pairs; i++)
            {
                float a = p[2 * i], b = p[2 * i + 1];
                p[2 * i] = a * cos[i] - b * sin[i];
                p[2 * i + 1] = a * sin[i] + b * cos[i];
            }
        }
    }

    /// <summary>Rotates the pairs (x[i], x[i + pairs]) of each head (NEOX): the first 2 * pairs values, the rest untouched.</summary>
    public static void ApplyNeox(float* v, int heads, int headDim, int pairs, float* cos, float* sin)
    {
        for (var h = 0; h < heads; h++)
        {
            var p = v + h * headDim;
            for (var i = 0; i < pairs; i++)
            {
                float a = p[i], b = p[i + pairs];
                p[i] = a * cos[i] - b * sin[i];
                p[i + pairs] = a * sin[i] + b * cos[i];
            }
        }
    }
}
