namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Rotary position embedding on adjacent pairs (x[2i], x[2i+1]) of each head's first RopeDimensionCount
/// values, as llama2.c's run.c and llama.cpp's llama (NORM) rope: angle = pos * base^(-2i / rope_dims).
/// </summary>
internal static unsafe class Rope
{
    /// <summary>Inverse frequencies per pair, divided by the optional Llama 3.1 frequency factors.</summary>
    public static float[] Frequencies(int ropeDims, float ropeBase, float[]? factors)
    {
        var freqs = new float[ropeDims / 2];
        for (var i = 0; i < freqs.Length; i++)
        {
            freqs[i] = 1f / MathF.Pow(ropeBase, 2 * i / (float)ropeDims);
            if (factors is not null && i < factors.Length) freqs[i] /= factors[i];
        }
        return freqs;
    }

    /// <summary>Fills cos/sin of pos * freq for each pair.</summary>
    public static void Angles(int pos, float[] freqs, float* cos, float* sin)
    {
        for (var i = 0; i < freqs.Length; i++)
        {
            var angle = pos * freqs[i];
            (sin[i], cos[i]) = MathF.SinCos(angle);
        }
    }

    /// <summary>Rotates the leading pairs of <paramref name="heads"/> heads of size <paramref name="headDim"/>.</summary>
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
}
