using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

public struct RmsNormArgs
{
    public int Rows;
    public int Size;
    public float Eps;

    /// <summary>When 1, output row r reads input row rowMap[r] (the final norm of the rows that need logits). An int: kernel arguments must be blittable.</summary>
    public int Gather;

    /// <summary>When 1, the normed row is added to Y instead of stored (gemma's post-attention and post-FFN norms feeding the residual).</summary>
    public int Accumulate;
}

/// <summary>Y[r] (+)= W * (X[r] / sqrt(mean(X[r]^2) + eps)), one group per row, as llama2.c's rmsnorm.</summary>
public static class RmsNormKernel
{
    public const int Threads = 128;

    public static void Kernel(ArrayView<float> x, ArrayView<float> weight, ArrayView<int> rowMap, ArrayView<float> y, RmsNormArgs a)
    {
        var scratch = SharedMemory.Allocate<float>(32);
        for (var r = Grid.IdxX; r < a.Rows; r += Grid.DimX) Row(x, weight, rowMap, y, a, r, scratch);
    }

    private static void Row(ArrayView<float> x, ArrayView<float> weight, ArrayView<int> rowMap, ArrayView<float> y, RmsNormArgs a, int r, ArrayView<float> scratch)
    {
        var src = (long)(a.Gather != 0 ? rowMap[r] : r) * a.Size;
        var dst = (long)r * a.Size;
        var ss = 0f;
        for (var i = Group.IdxX; i < a.Size; i += Group.DimX)
        {
            var v = x[src + i];
            ss += v * v;
        }
        ss = WarpMath.GroupSum(ss, scratch);
        var scale = 1f / XMath.Sqrt(ss / a.Size + a.Eps);
        if (a.Accumulate != 0)
        {
            for (var i = Group.IdxX; i < a.Size; i += Group.DimX) y[dst + i] += x[src + i] * scale * weight[i];
            return;
        }
        for (var i = Group.IdxX; i < a.Size; i += Group.DimX) y[dst + i] = x[src + i] * scale * weight[i];
    }
}
