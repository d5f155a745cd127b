using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// How one KV row (a token's keys or values, whole KV heads) is encoded in the pool. Static members so that
/// <see cref="PagedAttention.Head{TRow}"/> is compiled once per format with no dispatch in its inner loops.
/// </summary>
internal unsafe interface IKvRow
{
    /// <summary>Encodes <paramref name="n"/> floats into <paramref name="dst"/>.</summary>
    static abstract void Write(float* x, byte* dst, int n);

    /// <summary><paramref name="n"/> decoded floats: the row itself when it is f32, else decoded into <paramref name="scratch"/>.</summary>
    static abstract float* Read(byte* src, float* scratch, int n);
}

/// <summary>f32 rows, read in place.</summary>
internal readonly unsafe struct F32KvRow : IKvRow
{
    public static void Write(float* x, byte* dst, int n) => Buffer.MemoryCopy(x, dst, n * sizeof(float), n * sizeof(float));

    public static float* Read(byte* src, float* scratch, int n) => (float*)src;
}

/// <summary>IEEE half rows (round to nearest even on write), widened to f32 with SIMD on read.</summary>
internal readonly unsafe struct F16KvRow : IKvRow
{
    public static void Write(float* x, byte* dst, int n) =>
        TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(x, n), new Span<Half>(dst, n));

    public static float* Read(byte* src, float* scratch, int n)
    {
        TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src, n), new Span<float>(scratch, n));
        return scratch;
    }
}

/// <summary>
/// ggml's block_q8_0 rows: per 32 values an f16 scale d = max|x| / 127 and 32 int8 q = round(x / d) (half away
/// from zero), as <c>quantize_row_q8_0_ref</c>; x ≈ d · q. Rows are whole blocks (head size a multiple of 32).
/// </summary>
internal readonly unsafe struct Q8KvRow : IKvRow
{
    public const int BlockValues = 32;
    public const int BlockBytes = 2 + BlockValues;

    /// <summary>ggml's reference q8_0 encoding (the model files' quantizer), so the pool holds ggml blocks.</summary>
    public static void Write(float* x, byte* dst, int n) =>
        Quantize.Row(GgmlType.Q8_0, new ReadOnlySpan<float>(x, n), new Span<byte>(dst, n / BlockValues * BlockBytes));

    public static float* Read(byte* src, float* scratch, int n)
    {
        var y = scratch;
        for (var b = 0; b < n / BlockValues; b++, src += BlockBytes, y += BlockValues)
        {
            var d = (float)*(Half*)src;
            var q = (sbyte*)(src + 2);
            if (Avx2.IsSupported)
            {
                var vd = Vector256.Create(d);
                for (var j = 0; j < BlockValues; j += 8)
                    (vd * Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + j))).Store(y + j);
            }
            else
            {
                for (var j = 0; j < BlockValues; j++) y[j] = d * q[j];
            }
        }
        return scratch;
    }
}
