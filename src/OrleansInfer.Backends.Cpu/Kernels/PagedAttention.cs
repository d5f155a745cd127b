using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Causal (optionally sliding-window) attention of one query head over a sequence's paged KV cache. The cache of a layer is
/// [block][slot in block][kv row] (see <see cref="KvPool"/>); a sequence's block table maps its logical blocks to
/// physical ones.
/// </summary>
internal static unsafe class PagedAttention
{
    /// <summary>
    /// out[0..headDim) = softmax(s) . V[start..end) for one KV head, where s_p = q . K[p] * scale, soft-capped to
    /// cap * tanh(s_p / cap) when <paramref name="softcap"/> is positive (gemma2). The head's row starts
    /// <paramref name="headOffset"/> bytes into each slot of <paramref name="slotBytes"/> bytes; rows are decoded as
    /// <typeparamref name="TRow"/> (into <paramref name="row"/>, headDim floats, unless they are f32). The scan starts
    /// at <paramref name="start"/> (a sliding window's first visible position): the blocks before it are never read.
    /// <paramref name="scores"/> needs end - start floats.
    /// </summary>
    public static void Head<TRow>(float* q, byte* kCache, byte* vCache, ReadOnlySpan<int> blockTable, int blockSize,
        long slotBytes, long headOffset, int headDim, int start, int end, float scale, float softcap, float* scores, float* row, float* output)
        where TRow : struct, IKvRow
    {
        var count = end - start;
        var max = float.NegativeInfinity;
        var invCap = softcap > 0 ? 1f / softcap : 0f;
        for (int pos = start, b = start / blockSize, j0 = start % blockSize; pos < end; b++, j0 = 0)
        {
            var slotBase = (long)blockTable[b] * blockSize;
            var n = Math.Min(blockSize - j0, end - pos);
            var s0 = scores + (pos - start) - j0;
            for (var j = j0; j < j0 + n; j++)
            {
                var k = TRow.Read(kCache + (slotBase + j) * slotBytes + headOffset, row, headDim);
                var s = MatMul.Dot(q, k, headDim) * scale;
                // ggml: scale by 1/cap, tanh, scale by cap.
                if (softcap > 0) s = MathF.Tanh(s * invCap) * softcap;
                s0[j] = s;
                if (s > max) max = s;
            }
            pos += n;
        }

        var sc = new Span<float>(scores, count);
        TensorPrimitives.Subtract(sc, max, sc);
        TensorPrimitives.Exp(sc, sc);
        var inv = 1f / TensorPrimitives.Sum(sc);

        var o = new Span<float>(output, headDim);
        o.Clear();
        for (int pos = start, b = start / blockSize, j0 = start % blockSize; pos < end; b++, j0 = 0)
        {
            var slotBase = (long)blockTable[b] * blockSize;
            var n = Math.Min(blockSize - j0, end - pos);
            var s0 = scores + (pos - start) - j0;
            for (var j = j0; j < j0 + n; j++)
            {
                var v = TRow.Read(vCache + (slotBase + j) * slotBytes + headOffset, row, headDim);
                Axpy(s0[j] * inv, v, output, headDim);
            }
            pos += n;
        }
    }

    /// <summary>y += a * x.</summary>
    private static void Axpy(float a, float* x, float* y, int n)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }
}
