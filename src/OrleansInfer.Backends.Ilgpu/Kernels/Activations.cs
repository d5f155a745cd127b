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
    /// f16(gelu(x)) (<see cref="OrleansInfer.Model.GgmlGelu"/>, uploaded once). A table rather than the formula on the device: the two
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
