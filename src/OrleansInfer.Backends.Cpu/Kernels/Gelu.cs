using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>GeGLU over ggml's GELU table (<see cref="GgmlGelu"/>), so gemma's logits match llama.cpp's to rounding.</summary>
internal static unsafe class Gelu
{
    /// <summary>gelu(x) as ggml's CPU backend returns it.</summary>
    public static float Of(float x) => GgmlGelu.Of(x);

    /// <summary>g = gelu(g) * u in place (ggml_vec_geglu_f32: the gate's gelu times the up projection).</summary>
    public static void GeGlu(float* g, float* u, int size)
    {
        var table = GgmlGelu.Table;
        for (var i = 0; i < size; i++)
        {
            var x = g[i];
            float y;
            if (x <= -10f) y = 0f;
            else if (x >= 10f) y = x;
            else y = table[BitConverter.HalfToUInt16Bits((Half)x)];
            g[i] = y * u[i];
        }
    }
}
