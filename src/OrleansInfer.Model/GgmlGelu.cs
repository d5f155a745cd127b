namespace OrleansInfer.Model;

/// <summary>
/// GELU as llama.cpp's CPU backend computes it, the reference both our backends match (gemma's GeGLU). ggml-cpu defines
/// GGML_GELU_FP16 (ggml-cpu/vec.h), so <c>ggml_vec_geglu_f32</c> / <c>ggml_vec_gelu_f32</c> do not evaluate the tanh
/// approximation per value: x &lt;= -10 gives 0, x &gt;= 10 gives x, anything else is rounded to f16 and looked up in a
/// 65536-entry table of f16(gelu(x)) for every half x (ggml_table_gelu_f16, filled at ggml_cpu_init). The result carries
/// two f16 roundings (about 5e-4 relative each): evaluating gelu in f32 instead moves gemma's logits by more than the
/// 1e-3 we match llama.cpp to, so we round exactly where ggml rounds.
/// </summary>
public static class GgmlGelu
{
    private const float CoefA = 0.044715f;
    private const float Sqrt2OverPi = 0.79788456080286535587989211986876f;

    private static readonly float[] Values = Build();

    /// <summary>f16(gelu(x)) widened to f32, indexed by the f16 bits of x; a backend uploads or reads it as is.</summary>
    public static ReadOnlySpan<float> Table => Values;

    /// <summary>
    /// ggml_gelu_f32, 0.5·x·(1 + tanh(√(2/π)·x·(1 + a·x·x))), evaluated as LLamaSharp's libggml-cpu.so fills its table:
    /// GCC contracted 1 + (a·x)·x into one fused multiply-add (vfmadd213ss in ggml_cpu_init), so we fuse it too, then
    /// (√(2/π)·x)·that, glibc's tanhf (MathF.Tanh calls the C library's), and (0.5·x)·(tanh + 1), all in f32.
    /// </summary>
    public static float Exact(float x) => 0.5f * x * (MathF.Tanh(Sqrt2OverPi * x * MathF.FusedMultiplyAdd(CoefA * x, x, 1.0f)) + 1.0f);

    /// <summary>gelu(x) as ggml's CPU backend returns it (the f16 table between -10 and 10).</summary>
    public static float Of(float x)
    {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        return Values[BitConverter.HalfToUInt16Bits((Half)x)];
    }

    private static float[] Build()
    {
        var table = new float[1 << 16];
        for (var i = 0; i < table.Length; i++)
        {
            var x = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            table[i] = (float)(Half)Exact(x);
        }
        return table;
    }
}
