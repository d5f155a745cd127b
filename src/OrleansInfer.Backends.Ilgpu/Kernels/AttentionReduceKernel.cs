using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Combines the per-split partials of <see cref="PagedAttentionKernel"/>: with M = max m_s,
/// out = Σ acc_s e^(m_s - M) / Σ l_s e^(m_s - M). One warp per (token, head); splits past the token's
/// context (or window) hold nothing and are skipped.
/// </summary>
public static class AttentionReduceKernel
{
    public const int WarpsPerGroup = 4;

    public static void Kernel(ArrayView<int> positions, ArrayView<float> partialAcc, ArrayView<float> partialStats, ArrayView<float> output, AttentionArgs a)
    {
        var items = (long)a.Tokens * a.Heads;
        for (var item = (long)Grid.IdxX * WarpsPerGroup + Group.IdxX / Warp.WarpSize; item < items; item += (long)Grid.DimX * WarpsPerGroup)
            Item(positions, partialAcc, partialStats, output, a, item);
    }

    private static void Item(ArrayView<int> positions, ArrayView<float> partialAcc, ArrayView<float> partialStats, ArrayView<float> output, AttentionArgs a, long item)
    {
        var lane = Warp.LaneIdx;
        var t = (int)(item / a.Heads);
        var visible = positions[t] + 1 - PagedAttentionKernel.FirstVisible(positions[t] + 1, a);
        var splits = (visible + a.SplitLength - 1) / a.SplitLength;
        var first = item * a.Splits;

        var max = float.NegativeInfinity;
        for (var s = 0; s < splits; s++) max = IntrinsicMath.Max(max, partialStats[2 * (first + s)]);
        var sum = 0f;
        for (var s = 0; s < splits; s++) sum += partialStats[2 * (first + s) + 1] * XMath.Exp(partialStats[2 * (first + s)] - max);
        var inv = 1f / sum;

        var hd = a.HeadDim;
        for (var d = lane; d < hd; d += Warp.WarpSize)
        {
            var acc = 0f;
            for (var s = 0; s < splits; s++) acc += partialAcc[(first + s) * hd + d] * XMath.Exp(partialStats[2 * (first + s)] - max);
            output[item * hd + d] = acc * inv;
        }
    }
}
