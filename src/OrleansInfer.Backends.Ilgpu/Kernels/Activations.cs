using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>The gate activations of the gated feed-forward block, shared by the GEMV epilogue and <see cref="SwiGluKernel"/>.</summary>
public static class Activations
{
    public static float Silu(float x) => x / (1f + XMath.Exp(-x));

    /// <summary>
    /// GELU as ggml's CPU backend computes it for GeGLU (llama.cpp, our reference): ggml-cpu defines GGML_GELU_FP16, so
    /// x ≤ -10 gives 0, x ≥ 10 gives x, and anything else is rounded to f16 and looked up in a 65536-entry table of
    /// f16(gelu(x)) (<see cref="GeluTable"/>, uploaded once). A table rather than the formula on the device: the two
    /// f16 roundings make any difference in tanh's last bits a whole f16 step, and the table is the CPU backend's.
    /// </summary>
    public static float Gelu(float x, ArrayView<float> table)
    {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        return table[(int)HalfBits.FromFloat(x)];
    }

    /// <summary>act(gate) * up for <see cref="MatMulMode.SwiGlu"/> or <see cref="MatMulMode.GeGlu"/>.</summary>
    public static float Gate(MatMulMode mode, float gate, float up, ArrayView<float> geluTable) =>
        (mode == MatMulMode.GeGlu ? Gelu(gate, geluTable) : Silu(gate)) * up;
}

/// <summary>
/// ggml's <c>ggml_table_gelu_f16</c> widened to f32, built on the host as LLamaSharp's libggml-cpu.so fills it and as
/// the CPU backend builds its copy: 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x·x))) in f32 for every half x, with
/// 1 + (a·x)·x fused into one multiply-add (GCC contracts it there) and the C library's tanhf, rounded to f16.
/// </summary>
public static class GeluTable
{
    private const float CoefA = 0.044715f;
    private const float Sqrt2OverPi = 0.79788456080286535587989211986876f;

    private static readonly Lazy<float[]> Values = new(Build);

    /// <summary>The table, indexed by the f16 bits of x.</summary>
    public static float[] Table => Values.Value;

    /// <summary>gelu(x) as ggml's CPU backend returns it (for host-side references).</summary>
    public static float Of(float x)
    {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        return Table[BitConverter.HalfToUInt16Bits((System.Half)x)];
    }

    private static float[] Build()
    {
        var table = new float[1 << 16];
        for (var i = 0; i < table.Length; i++)
        {
            var x = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            var g = 0.5f * x * (MathF.Tanh(Sqrt2OverPi * x * MathF.FusedMultiplyAdd(CoefA * x, x, 1.0f)) + 1.0f);
            table[i] = (float)(System.Half)g;
        }
        return table;
    }
}
