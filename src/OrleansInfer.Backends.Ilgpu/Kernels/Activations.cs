using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>The gate activations of the gated feed-forward block, shared by the GEMV epilogue and <see cref="SwiGluKernel"/>.</summary>
public static class Activations
{
    public static float Silu(float x) => x / (1f + XMath.Exp(-x));

    /// <summary>
    /// GELU, tanh approximation, as ggml's CPU backend computes it for GeGLU (llama.cpp's reference): with
    /// GGML_GELU_FP16 (defined in ggml-cpu's vec.h) x is rounded to f16 and looked up in a table of f16-rounded
    /// 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))); below -10 it is 0 and from 10 on x itself. The table is the
    /// formula on the f16 value rounded to f16, so computing it here gives the same numbers up to tanh's last bit.
    /// </summary>
    public static float GeluGgml(float x)
    {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        var h = HalfBits.ToFloat(HalfBits.FromFloat(x));
        var g = 0.5f * h * (1f + XMath.Tanh(0.7978845608028654f * h * (1f + 0.044715f * h * h)));
        return HalfBits.ToFloat(HalfBits.FromFloat(g));
    }

    /// <summary>act(gate) * up for <see cref="MatMulMode.SwiGlu"/> or <see cref="MatMulMode.GeGlu"/>.</summary>
    public static float Gate(MatMulMode mode, float gate, float up) => (mode == MatMulMode.GeGlu ? GeluGgml(gate) : Silu(gate)) * up;
}
