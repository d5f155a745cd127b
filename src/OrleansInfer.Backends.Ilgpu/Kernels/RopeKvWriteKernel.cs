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
/// Kv[layer][slot][kv_dim]. One thread per (token, head, pair).
/// </summary>
public static class RopeKvWriteKernel
{
    public static void Kernel(Index1D index, ArrayView<float> qkv, ArrayView<float> kv, ArrayView<int> positions, ArrayView<int> slots,
        ArrayView<float> ropeCos, ArrayView<float> ropeSin, RopeArgs a)
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
        kv[a.KOffset + slot] = k0 * c - k1 * s;
        kv[a.KOffset + slot + 1] = k0 * s + k1 * c;
        kv[a.VOffset + slot] = qkv[v];
        kv[a.VOffset + slot + 1] = qkv[v + 1];
    }
}
