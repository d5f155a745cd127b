using ILGPU;
using ILGPU.Algorithms;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

public struct AttentionArgs
{
    public int Tokens;
    public int Heads;

    /// <summary>Query heads per KV head (GQA): head h reads KV head h / GroupSize.</summary>
    public int GroupSize;
    public int HeadDim;
    public int QkvLd;
    public int KvDim;
    public int BlockSize;

    /// <summary>Row stride of the step's block tables (the most blocks any scheduled sequence holds).</summary>
    public int TableWidth;

    /// <summary>Context splits per (token, head); 1 writes the normalized output directly.</summary>
    public int Splits;

    /// <summary>Positions per split, a multiple of the warp size.</summary>
    public int SplitLength;
    public float Scale;

    /// <summary>Scores become Softcap * tanh(score * SoftcapInverse) when Softcap &gt; 0 (gemma2); 0: no capping.</summary>
    public float Softcap;
    public float SoftcapInverse;

    /// <summary>Sliding window: a token at position P sees keys P - Window + 1 ..= P (its own included); 0: the whole context.</summary>
    public int Window;
    public long KOffset;
    public long VOffset;
}

/// <summary>
/// Causal attention over the paged KV cache for every token of the step at once: prompt chunks of several
/// variable-length sequences and decode tokens alike (each token attends to positions 0..its own, through its
/// sequence's block table; on sliding-window layers only to the last <see cref="AttentionArgs.Window"/> of them, and
/// the splits start at the window, so blocks before it are never read). One warp per (token, query head, split): lanes score 32 keys at a time, an online
/// softmax keeps a running max m and sum l, and each lane accumulates its own dims of the output. With several
/// splits (flash-decoding, for long contexts and few tokens) each warp writes its partial (acc, m, l) and
/// <see cref="AttentionReduceKernel"/> combines them. Keys and values are read through <see cref="IKvStore"/>
/// (f16 and q8_0 widened to f32 as they are loaded).
/// </summary>
public static class PagedAttentionKernel
{
    public const int WarpsPerGroup = 4;
    public const int MaxHeadDim = 256;

    public static void Kernel<TKv>(ArrayView<float> qkv, TKv kv, ArrayView<int> positions, ArrayView<int> tokenSequence,
        ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partialAcc, ArrayView<float> partialStats, AttentionArgs a)
        where TKv : struct, IKvStore
    {
        // Per warp: its query and its output accumulator; a lane only ever touches dims d ≡ lane (mod warp size).
        var accShared = SharedMemory.Allocate<float>(WarpsPerGroup * MaxHeadDim);
        var qShared = SharedMemory.Allocate<float>(WarpsPerGroup * MaxHeadDim);
        var warp = Group.IdxX / Warp.WarpSize;
        var items = (long)a.Tokens * a.Heads * a.Splits;
        // Grid-stride over (token, head, split) items, warp-uniform.
        for (var item = (long)Grid.IdxX * WarpsPerGroup + warp; item < items; item += (long)Grid.DimX * WarpsPerGroup)
        {
            Warp.Barrier(); // the previous item's readers of this warp's shared slices are done
            Item(qkv, kv, positions, tokenSequence, tables, output, partialAcc, partialStats, a, item, warp * MaxHeadDim, accShared, qShared);
        }
    }

    /// <summary>The first position a token with <paramref name="context"/> positions attends to (0 without a window).</summary>
    public static int FirstVisible(int context, AttentionArgs a) => a.Window > 0 ? IntrinsicMath.Max(0, context - a.Window) : 0;

    private static void Item<TKv>(ArrayView<float> qkv, TKv kv, ArrayView<int> positions, ArrayView<int> tokenSequence,
        ArrayView<int> tables, ArrayView<float> output, ArrayView<float> partialAcc, ArrayView<float> partialStats, AttentionArgs a,
        long item, int own, ArrayView<float> accShared, ArrayView<float> qShared)
        where TKv : struct, IKvStore
    {
        var lane = Warp.LaneIdx;
        var split = (int)(item % a.Splits);
        var th = item / a.Splits;
        var h = (int)(th % a.Heads);
        var t = (int)(th / a.Heads);
        var hd = a.HeadDim;
        var context = positions[t] + 1;
        var start = FirstVisible(context, a) + split * a.SplitLength;
        var end = IntrinsicMath.Min(context, start + a.SplitLength);
        var kvHead = (h / a.GroupSize) * hd;
        var tableRow = (long)tokenSequence[t] * a.TableWidth;

        for (var d = lane; d < hd; d += Warp.WarpSize)
        {
            qShared[own + d] = qkv[(long)t * a.QkvLd + h * hd + d];
            accShared[own + d] = 0f;
        }
        Warp.Barrier();

        var m = float.NegativeInfinity;
        var l = 0f;
        for (var p0 = start; p0 < end; p0 += Warp.WarpSize)
        {
            var p = p0 + lane;
            var score = float.NegativeInfinity;
            var slot = 0;
            if (p < end)
            {
                slot = tables[tableRow + p / a.BlockSize] * a.BlockSize + p % a.BlockSize;
                var key = a.KOffset + (long)slot * a.KvDim + kvHead;
                var dot = 0f;
                for (var d = 0; d < hd; d++) dot += qShared[own + d] * kv.Load(key + d);
                score = dot * a.Scale;
                if (a.Softcap > 0f) score = a.Softcap * XMath.Tanh(score * a.SoftcapInverse);
            }
            var newMax = IntrinsicMath.Max(m, WarpMath.Max(score));
            var correction = XMath.Exp(m - newMax);
            var e = p < end ? XMath.Exp(score - newMax) : 0f;
            l = l * correction + WarpMath.Sum(e);
            m = newMax;

            var count = IntrinsicMath.Min(Warp.WarpSize, end - p0);
            for (var d = lane; d < hd; d += Warp.WarpSize) accShared[own + d] *= correction;
            for (var j = 0; j < count; j++)
            {
                var ej = Warp.Shuffle(e, j);
                var value = a.VOffset + (long)Warp.Shuffle(slot, j) * a.KvDim + kvHead;
                for (var d = lane; d < hd; d += Warp.WarpSize) accShared[own + d] += ej * kv.Load(value + d);
            }
        }

        if (a.Splits == 1)
        {
            var outRow = (long)t * a.Heads * hd + h * hd;
            for (var d = lane; d < hd; d += Warp.WarpSize) output[outRow + d] = accShared[own + d] / l;
            return;
        }
        for (var d = lane; d < hd; d += Warp.WarpSize) partialAcc[item * hd + d] = accShared[own + d];
        if (lane == 0)
        {
            partialStats[2 * item] = m;
            partialStats[2 * item + 1] = l;
        }
    }
}
