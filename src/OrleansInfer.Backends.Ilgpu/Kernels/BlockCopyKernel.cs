using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Copy-on-write: for each (source, destination) pair, copies the block's slots in every layer's keys and values.
/// The pool is [2 * layers][blocks][block_size * kv_dim]; one thread per copied float.
/// </summary>
public static class BlockCopyKernel
{
    public static void Kernel(Index1D index, ArrayView<float> kv, ArrayView<int> pairs, int blockFloats, long halfStride, int halves)
    {
        int i = index;
        var perCopy = halves * blockFloats;
        var c = i / perCopy;
        var rem = i - c * perCopy;
        var half = rem / blockFloats;
        var e = rem - half * blockFloats;
        var b = half * halfStride;
        kv[b + (long)pairs[2 * c + 1] * blockFloats + e] = kv[b + (long)pairs[2 * c] * blockFloats + e];
    }
}
