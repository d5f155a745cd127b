using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

public struct HeadNormArgs
{
    public int Tokens;
    public int Heads;
    public int KvHeads;
    public int HeadDim;
    public int QkvLd;
    public float Eps;

    /// <summary>1 when the query heads (resp. the key heads) are normalized. Ints: kernel arguments must be blittable.</summary>
    public int NormQ;
    public int NormK;
}

/// <summary>
/// Per-head RMSNorm of q and k in the fused QKV rows, before RoPE (qwen3, gemma3): each head of head_dim values
/// becomes x / sqrt(mean(x²) + eps) * weight, the query heads with QNorm and the key heads with KNorm. The key heads
/// follow the query heads in a QKV row, so head h of a token starts at h * head_dim. One warp per (token, head).
/// </summary>
public static class HeadNormKernel
{
    public const int WarpsPerGroup = 4;

    public static void Kernel(ArrayView<float> qkv, ArrayView<float> qNorm, ArrayView<float> kNorm, HeadNormArgs a)
    {
        var heads = a.Heads + a.KvHeads;
        var rows = (long)a.Tokens * heads;
        for (var r = (long)Grid.IdxX * WarpsPerGroup + Group.IdxX / Warp.WarpSize; r < rows; r += (long)Grid.DimX * WarpsPerGroup)
        {
            var t = r / heads;
            var h = (int)(r - t * heads);
            var isQ = h < a.Heads;
            if (isQ ? a.NormQ == 0 : a.NormK == 0) continue; // warp-uniform
            var at = t * a.QkvLd + (long)h * a.HeadDim;
            var ss = 0f;
            for (var d = Warp.LaneIdx; d < a.HeadDim; d += Warp.WarpSize)
            {
                var v = qkv[at + d];
                ss += v * v;
            }
            ss = WarpMath.Sum(ss);
            var scale = 1f / XMath.Sqrt(ss / a.HeadDim + a.Eps);
            var w = isQ ? qNorm : kNorm;
            for (var d = Warp.LaneIdx; d < a.HeadDim; d += Warp.WarpSize) qkv[at + d] = qkv[at + d] * scale * w[d];
        }
    }
}

/// <summary>Y[t, j] += bias[j] for the first width columns of rows of stride ld (qwen2's Q/K/V biases).</summary>
public static class BiasAddKernel
{
    public static void Kernel(Index1D index, ArrayView<float> y, ArrayView<float> bias, int width, int ld)
    {
        int i = index;
        var t = i / width;
        var j = i - t * width;
        y[(long)t * ld + j] += bias[j];
    }
}

/// <summary>Y = cap * tanh(Y * (1 / cap)) in place, as ggml's scale → tanh → scale (gemma2's final logit soft-capping).</summary>
public static class SoftcapKernel
{
    public static void Kernel(Index1D index, ArrayView<float> y, float cap, float inverse)
    {
        y[index] = cap * XMath.Tanh(y[index] * inverse);
    }
}
