using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>The input rows of one matrix product in every encoding a target of it needs (unused ones null).</summary>
internal readonly unsafe struct ActivationRows(float* f32, byte* q8, byte* q8k, int tokens, int k)
{
    /// <summary>(tokens, k) f32 rows.</summary>
    public float* F32 { get; } = f32;

    /// <summary>(tokens) <see cref="Q8Activations"/> rows, <see cref="Q8Activations.RowBytes"/> apart.</summary>
    public byte* Q8 { get; } = q8;

    /// <summary>(tokens) <see cref="Q8KActivations"/> rows, <see cref="Q8KActivations.RowBytes"/> apart.</summary>
    public byte* Q8K { get; } = q8k;

    public int Tokens { get; } = tokens;

    public int K { get; } = k;
}

/// <summary>
/// Y[t, n] (+)= sum_k X[t, k] * W[n, k] for output rows [n0, n1), dispatched on the weight encoding to a kernel
/// that reads W in place: F32/F16/BF16 (<see cref="FloatDot"/>), Q8_0/Q4_0 (<see cref="QuantDot"/>),
/// Q4_K/Q5_K/Q6_K (<see cref="KQuantDot"/>).
/// </summary>
internal static unsafe class MatMul
{
    public static void Rows(in WeightMatrix w, in ActivationRows x, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
    {
        int tokens = x.Tokens, k = x.K;
        switch (w.Type)
        {
            case GgmlType.F32:
                FloatDot.Rows<F32Weights>(x.F32, tokens, k, w.Data, w.RowBytes, y, ldy, n0, n1, accumulate, level);
                break;
            case GgmlType.F16:
                FloatDot.Rows<F16Weights>(x.F32, tokens, k, w.Data, w.RowBytes, y, ldy, n0, n1, accumulate, level);
                break;
            case GgmlType.BF16:
                FloatDot.Rows<BF16Weights>(x.F32, tokens, k, w.Data, w.RowBytes, y, ldy, n0, n1, accumulate, level);
                break;
            case GgmlType.Q8_0:
                QuantDot.Rows<Q8_0Kernel>(w.Data, w.RowBytes, x.Q8, Q8Activations.RowBytes(k), tokens, k, y, ldy, n0, n1, accumulate, level);
                break;
            case GgmlType.Q4_0:
                QuantDot.Rows<Q4_0Kernel>(w.Data, w.RowBytes, x.Q8, Q8Activations.RowBytes(k), tokens, k, y, ldy, n0, n1, accumulate, level);
                break;
            case GgmlType.Q4_K:
                KQuantDot.Q4K(w.Row(n0), w.RowBytes, n1 - n0, x.Q8K, Q8KActivations.RowBytes(k), tokens, k, y + n0, ldy, accumulate);
                break;
            case GgmlType.Q5_K:
                KQuantDot.Q5K(w.Row(n0), w.RowBytes, n1 - n0, x.Q8K, Q8KActivations.RowBytes(k), tokens, k, y + n0, ldy, accumulate);
                break;
            case GgmlType.Q6_K:
                KQuantDot.Q6K(w.Row(n0), w.RowBytes, n1 - n0, x.Q8K, Q8KActivations.RowBytes(k), tokens, k, y + n0, ldy, accumulate);
                break;
            default:
                throw new NotSupportedException($"no matrix kernel for ggml type {GgmlTypeInfo.Name(w.Type)} (it should have been dequantized at load)");
        }
    }

    /// <summary>One f32 dot product of length <paramref name="k"/> (attention scores).</summary>
    public static float Dot(float* a, float* b, int k) => FloatDot.Dot<F32Weights>(a, (byte*)b, k, Simd.Detected);
}
