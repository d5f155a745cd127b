using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

public struct RopeArgs
{
    public int Heads;
    public int KvHeads;
    public int HeadDim;

    /// <summary>Pairs RoPE rotates per head (RopeDimensionCount / 2); later pairs pass through.</summary>
    public int RopePairs;

    /// <summary>Row stride of the fused QKV activations: dim + 2 * kv_dim.</summary>
    public int QkvLd;
    public int Dim;
    public int KvDim;

    /// <summary>Where this layer's keys and values start in the KV pool.</summary>
    public long KOffset;
    public long VOffset;
}

/// <summary>
/// Rotates adjacent pairs of each head of q (in place) and k (llama.cpp NORM rope; cos/sin from a table computed
/// on the host exactly as the CPU backend does), and writes the token's k and v into its KV slot:
/// Kv[layer][slot][kv_dim], encoded by the <see cref="IKvStore"/>. One thread per (token, head, pair). For q8_0
/// every thread of a 32-value block computes the block's max |x| itself (16 pairs: cheaper than a cross-thread
/// reduction, identical in every thread) and the block's first thread writes the scale.
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
        var c = 1f;
        var s = 0f;
        if (rotate)
        {
            var at = (long)positions[t] * a.RopePairs + p;
            c = ropeCos[at];
            s = ropeSin[at];
        }

        var row = (long)t * a.QkvLd;
        if (h < a.Heads)
        {
            var q = row + h * a.HeadDim + 2 * p;
            if (rotate)
            {
                float x0 = qkv[q], x1 = qkv[q + 1];
                qkv[q] = x0 * c - x1 * s;
                qkv[q + 1] = x0 * s + x1 * c;
            }
            return;
        }

        var g = h - a.Heads;
        var k = row + a.Dim + g * a.HeadDim + 2 * p;
        var v = k + a.KvDim;
        float k0 = qkv[k], k1 = qkv[k + 1];
        var slot = (long)slots[t] * a.KvDim + g * a.HeadDim + 2 * p;
        float kMax = 0f, vMax = 0f;
        if (kv.NeedsBlockMax)
        {
            // The 16 pairs of this 32-value block (head sizes are whole blocks): rotated keys, raw values.
            var first = p & ~15;
            var head = row + a.Dim + g * a.HeadDim;
            var pos = (long)positions[t] * a.RopePairs;
            for (var j = first; j < first + 16; j++)
            {
                float x0 = qkv[head + 2 * j], x1 = qkv[head + 2 * j + 1];
                if (j < a.RopePairs)
                {
                    float cj = ropeCos[pos + j], sj = ropeSin[pos + j];
                    (x0, x1) = (x0 * cj - x1 * sj, x0 * sj + x1 * cj);
                }
                kMax = IntrinsicMath.Max(kMax, IntrinsicMath.Max(IntrinsicMath.Abs(x0), IntrinsicMath.Abs(x1)));
                vMax = IntrinsicMath.Max(vMax, IntrinsicMath.Max(IntrinsicMath.Abs(qkv[head + a.KvDim + 2 * j]), IntrinsicMath.Abs(qkv[head + a.KvDim + 2 * j + 1])));
            }
        }
        kv.Store(a.KOffset + slot, k0 * c - k1 * s, kMax);
        kv.Store(a.KOffset + slot + 1, k0 * s + k1 * c, kMax);
        kv.Store(a.VOffset + slot, qkv[v], vMax);
        kv.Store(a.VOffset + slot + 1, qkv[v + 1], vMax);
    }
}
