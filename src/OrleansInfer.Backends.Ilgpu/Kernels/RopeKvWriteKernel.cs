using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

public struct RopeArgs
{
    /// <summary>Query and KV heads of this layer (per-layer counts: deci).</summary>
    public int Heads;
    public int KvHeads;
    public int HeadDim;

    /// <summary>Pairs RoPE rotates per head (RopeDimensionCount / 2); later pairs pass through.</summary>
    public int RopePairs;

    /// <summary>1: NEOX pairs (x[i], x[i + RopePairs]); 0: adjacent pairs (x[2i], x[2i + 1]). An int: kernel arguments must be blittable.</summary>
    public int Neox;

    /// <summary>Row stride of the fused QKV activations: query_dim + 2 * kv_dim of the widest layer.</summary>
    public int QkvLd;

    /// <summary>Width of this layer's query heads (Heads * HeadDim): where k starts in a QKV row.</summary>
    public int Dim;

    /// <summary>Width of this layer's KV heads: where v starts after k, and the KV pool's row width for this layer.</summary>
    public int KvDim;

    /// <summary>Where this layer's keys and values start in the KV pool.</summary>
    public long KOffset;
    public long VOffset;
}

/// <summary>
/// Rotates each head of q (in place) and k, and writes the token's k and v into its KV slot: Kv[layer][slot][kv_dim],
/// encoded by the <see cref="IKvStore"/>. Pairs are adjacent (llama.cpp NORM) or halves (NEOX); cos/sin come from a
/// per-layer table computed on the host as the CPU backend does (the RoPE scale already multiplied in). One thread
/// per (token, head, pair): pair p of a head covers its two elements (p and p + RopePairs for NEOX rotated pairs,
/// 2p and 2p + 1 otherwise, pass-through pairs included). For q8_0 every thread computes the max |x| of the 32-value
/// block(s) its two elements fall in itself (cheaper than a cross-thread reduction, identical in every thread) and
/// the block's first element writes the scale.
/// </summary>
public static class RopeKvWriteKernel
{
    public static void Kernel<TKv>(Index1D index, ArrayView<float> qkv, TKv kv, ArrayView<int> positions, ArrayView<int> slots,
        ArrayView<float> ropeCos, ArrayView<float> ropeSin, RopeArgs a)
        where TKv : struct, IKvStore
    {
        int i = index;
        var pairsPerHead = a.HeadDim / 2;
        var perToken = (a.Heads + a.KvHeads) * pairsPerHead;
        var t = i / perToken;
        var rem = i - t * perToken;
        var h = rem / pairsPerHead;
        var p = rem - h * pairsPerHead;
        var rotate = p < a.RopePairs;
        var neox = a.Neox != 0 && rotate;
        var e0 = neox ? p : 2 * p;
        var e1 = neox ? p + a.RopePairs : 2 * p + 1;
        var c = 1f;
        var s = 0f;
        var table = (long)positions[t] * a.RopePairs;
        if (rotate)
        {
            c = ropeCos[table + p];
            s = ropeSin[table + p];
        }

        var row = (long)t * a.QkvLd;
        if (h < a.Heads)
        {
            var q = row + h * a.HeadDim;
            if (rotate)
            {
                float x0 = qkv[q + e0], x1 = qkv[q + e1];
                qkv[q + e0] = x0 * c - x1 * s;
                qkv[q + e1] = x0 * s + x1 * c;
            }
            return;
        }

        var g = h - a.Heads;
        var k = row + a.Dim + g * a.HeadDim;
        var v = k + a.KvDim;
        float k0 = qkv[k + e0], k1 = qkv[k + e1];
        var slot = (long)slots[t] * a.KvDim + g * a.HeadDim;
        float kMax0 = 0f, vMax0 = 0f, kMax1 = 0f, vMax1 = 0f;
        if (kv.NeedsBlockMax)
        {
            // Head sizes are whole 32-value blocks; NEOX pairs may straddle two of them.
            BlockMax(qkv, k, e0 & ~31, ropeCos, ropeSin, table, a, out kMax0, out vMax0);
            if ((e1 & ~31) == (e0 & ~31))
            {
                kMax1 = kMax0;
                vMax1 = vMax0;
            }
            else
            {
                BlockMax(qkv, k, e1 & ~31, ropeCos, ropeSin, table, a, out kMax1, out vMax1);
            }
        }
        kv.Store(a.KOffset + slot + e0, k0 * c - k1 * s, kMax0);
        kv.Store(a.KOffset + slot + e1, k0 * s + k1 * c, kMax1);
        kv.Store(a.VOffset + slot + e0, qkv[v + e0], vMax0);
        kv.Store(a.VOffset + slot + e1, qkv[v + e1], vMax1);
    }

    /// <summary>max |x| over the 32 rotated keys and the 32 raw values of the block starting at element <paramref name="first"/> of the head.</summary>
    private static void BlockMax(ArrayView<float> qkv, long head, int first, ArrayView<float> ropeCos, ArrayView<float> ropeSin, long table,
        RopeArgs a, out float kMax, out float vMax)
    {
        kMax = 0f;
        vMax = 0f;
        for (var e = first; e < first + 32; e++)
        {
            kMax = IntrinsicMath.Max(kMax, IntrinsicMath.Abs(RotatedKey(qkv, head, e, ropeCos, ropeSin, table, a)));
            vMax = IntrinsicMath.Max(vMax, IntrinsicMath.Abs(qkv[head + a.KvDim + e]));
        }
    }

    /// <summary>Element <paramref name="e"/> of the rotated head at <paramref name="head"/>, computed exactly as the main path stores it.</summary>
    private static float RotatedKey(ArrayView<float> qkv, long head, int e, ArrayView<float> ropeCos, ArrayView<float> ropeSin, long table, RopeArgs a)
    {
        int pair, partner;
        bool first;
        if (a.Neox != 0)
        {
            if (e >= 2 * a.RopePairs) return qkv[head + e];
            first = e < a.RopePairs;
            pair = first ? e : e - a.RopePairs;
            partner = first ? e + a.RopePairs : e - a.RopePairs;
        }
        else
        {
            pair = e >> 1;
            if (pair >= a.RopePairs) return qkv[head + e];
            first = (e & 1) == 0;
            partner = e ^ 1;
        }
        float c = ropeCos[table + pair], s = ropeSin[table + pair];
        var x = qkv[head + e];
        var y = qkv[head + partner];
        return first ? x * c - y * s : y * s + x * c;
    }
}
