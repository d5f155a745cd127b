using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Copy-on-write: for each (source, destination) pair, copies the block's slots in every layer's keys and values.
/// The pool is [2 * layers][blocks][block_size * kv_dim] values; one thread per copied value (q8_0 blocks' first
/// threads also copy the scale: blocks hold whole 32-value groups).
/// </summary>
public static class BlockCopyKernel
{
    public static void Kernel<TKv>(Index1D index, TKv kv, ArrayView<int> pairs, int blockFloats, long halfStride, int halves)
        where TKv : struct, IKvStore
    {
        int i = index;
        var perCopy = halves * blockFloats;
        var c = i / perCopy;
        var rem = i - c * perCopy;
        var half = rem / blockFloats;
        var e = rem - half * blockFloats;
        var b = half * halfStride;
        kv.Copy(b + (long)pairs[2 * c] * blockFloats + e, b + (long)pairs[2 * c + 1] * blockFloats + e);
    }
}
