using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Copy-on-write: for each (source, destination) pair, copies the block's slots in the keys and values of a run of
/// layers with the same kv_dim (every layer in one launch unless per-layer KV head counts differ). From
/// <c>first</c> the pool is [2 * layers][blocks][block_size * kv_dim] values; one thread per copied value (q8_0 blocks' first
/// threads also copy the scale: blocks hold whole 32-value groups).
/// </summary>
public static class BlockCopyKernel
{
    public static void Kernel<TKv>(Index1D index, TKv kv, ArrayView<int> pairs, int blockFloats, long halfStride, int halves, long first)
        where TKv : struct, IKvStore
    {
        int i = index;
        var perCopy = halves * blockFloats;
        var c = i / perCopy;
        var rem = i - c * perCopy;
        var half = rem / blockFloats;
        var e = rem - half * blockFloats;
        var b = first + half * halfStride;
        kv.Copy(b + (long)pairs[2 * c] * blockFloats + e, b + (long)pairs[2 * c + 1] * blockFloats + e);
    }
}
