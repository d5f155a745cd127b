using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Causal attention of one query head over a sequence's paged KV cache. The cache of a layer is
/// [block][slot in block][kv_dim]; a sequence's block table maps its logical blocks to physical ones.
/// </summary>
internal static unsafe class PagedAttention
{
    /// <summary>
    /// out[0..headDim) = softmax(q . K[0..contextLength) / sqrt(headDim)) . V for KV head <paramref name="kvHead"/>.
    /// <paramref name="scores"/> needs <paramref name="contextLength"/> floats.
    /// </summary>
    public static void Head(float* q, float* kCache, float* vCache, ReadOnlySpan<int> blockTable, int blockSize,
        int kvDim, int kvHead, int headDim, int contextLength, float* scores, float* output)
    {
        var scale = 1f / MathF.Sqrt(headDim);
        var headOffset = kvHead * headDim;
        var max = float.NegativeInfinity;
        for (int pos = 0, b = 0; pos < contextLength; b++)
        {
            var slotBase = (long)blockTable[b] * blockSize;
            var n = Math.Min(blockSize, contextLength - pos);
            for (var j = 0; j < n; j++)
            {
                var s = MatMul.Dot(q, kCache + (slotBase + j) * kvDim + headOffset, headDim) * scale;
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
                Axpy(scores[pos + j] * inv, vCache + (slotBase + j) * kvDim + headOffset, output, headDim);
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
