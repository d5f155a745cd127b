using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Causal attention of one query head over a sequence's paged KV cache. The cache of a layer is
/// [block][slot in block][kv row] (see <see cref="KvPool"/>); a sequence's block table maps its logical blocks to
/// physical ones.
/// </summary>
internal static unsafe class PagedAttention
{
    /// <summary>
    /// out[0..headDim) = softmax(q . K[0..contextLength) / sqrt(headDim)) . V for one KV head, whose row starts
    /// <paramref name="headOffset"/> bytes into each slot of <paramref name="slotBytes"/> bytes; rows are decoded
    /// as <typeparamref name="TRow"/> (into <paramref name="row"/>, headDim floats, unless they are f32).
    /// <paramref name="scores"/> needs <paramref name="contextLength"/> floats.
    /// </summary>
    public static void Head<TRow>(float* q, byte* kCache, byte* vCache, ReadOnlySpan<int> blockTable, int blockSize,
        long slotBytes, long headOffset, int headDim, int contextLength, float* scores, float* row, float* output)
        where TRow : struct, IKvRow
    {
        var scale = 1f / MathF.Sqrt(headDim);
        var max = float.NegativeInfinity;
        for (int pos = 0, b = 0; pos < contextLength; b++)
        {
            var slotBase = (long)blockTable[b] * blockSize;
            var n = Math.Min(blockSize, contextLength - pos);
            for (var j = 0; j < n; j++)
            {
                var k = TRow.Read(kCache + (slotBase + j) * slotBytes + headOffset, row, headDim);
                var s = MatMul.Dot(q, k, headDim) * scale;
                scores[pos + j] = s;
                if (s > max) max = s;
            }
            pos += n;
        }

        var sc = new Span<float>(scores, contextLength);
        TensorPrimitives.Subtract(sc, max, sc);
        TensorPrimitives.Exp(sc, sc);
        var inv = 1f / TensorPrimitives.Sum(sc);

        var o = new Span<float>(output, headDim);
        o.Clear();
        for (int pos = 0, b = 0; pos < contextLength; b++)
        {
            var slotBase = (long)blockTable[b] * blockSize;
            var n = Math.Min(blockSize, contextLength - pos);
            for (var j = 0; j < n; j++)
            {
                var v = TRow.Read(vCache + (slotBase + j) * slotBytes + headOffset, row, headDim);
                Axpy(scores[pos + j] * inv, v, output, headDim);
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
