using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Activation rows quantized for the Q8_0 and Q4_0 products: per block of 32 values an f32 scale d and int8 values
/// q = round(x / d) with d = max|x| / 127, as llama.cpp's block_q8_0 (its scale is f16; ours stays f32). A row of
/// nb = k/32 blocks is three arrays so each SIMD load is one contiguous, 32-byte aligned run:
/// <c>[nb × 32 int8 q][nb × 8 f32 d, repeated per lane][nb × 8 int32 Q4_0 offsets]</c>.
/// The scale is stored once per int32 lane of a block's partial sums, so kernels multiply with it straight from
/// memory; the offset of lane i is -8 × (q[4i] + ... + q[4i+3]), which turns a product of Q4_0's unsigned nibbles
/// with q into the product with (nibble - 8) without unpacking signed weights.
/// </summary>
internal static unsafe class Q8Activations
{
    public const int BlockValues = 32;

    /// <summary>Bytes of one quantized row of <paramref name="k"/> values (k a multiple of 32).</summary>
    public static long RowBytes(int k) => (long)k / BlockValues * 96;

    /// <summary>The int8 values of a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte* Values(byte* row) => (sbyte*)row;

    /// <summary>The per-lane scales of a row (8 floats per block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Scales(byte* row, int k) => (float*)(row + k);

    /// <summary>The per-lane Q4_0 offsets of a row (8 int32 per block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int* Offsets(byte* row, int k) => (int*)(row + 2L * k);

    /// <summary>Quantizes <paramref name="k"/> floats (a multiple of 32) into one row at <paramref name="destination"/>.</summary>
    public static void Quantize(float* x, int k, byte* destination)
    {
        var values = Values(destination);
        var scales = Scales(destination, k);
        var offsets = Offsets(destination, k);
        for (var b = 0; b < k / BlockValues; b++)
        {
            var src = x + b * BlockValues;
            var v0 = Vector256.Load(src);
            var v1 = Vector256.Load(src + 8);
            var v2 = Vector256.Load(src + 16);
            var v3 = Vector256.Load(src + 24);
            var amax = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            var max = MaxAcross(amax);
            var d = max / 127f;
            var id = d == 0 ? 0f : 1f / d;
            // Round half to even, as llama.cpp's _mm256_round_ps(_MM_ROUND_NEAREST); identical on every SIMD level.
            var scale = Vector256.Create(id);
            var q0 = Vector256.ConvertToInt32(Vector256.Round(v0 * scale));
            var q1 = Vector256.ConvertToInt32(Vector256.Round(v1 * scale));
            var q2 = Vector256.ConvertToInt32(Vector256.Round(v2 * scale));
            var q3 = Vector256.ConvertToInt32(Vector256.Round(v3 * scale));
            var bytes = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
            bytes.Store(values + b * BlockValues);
            Vector256.Create(d).Store(scales + b * 8);
            var dst = offsets + b * 8;
            GroupSums(q0, dst);
            GroupSums(q1, dst + 2);
            GroupSums(q2, dst + 4);
            GroupSums(q3, dst + 6);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    /// <summary>-8 × the sums of values 0..3 and 4..7 of <paramref name="q"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupSums(Vector256<int> q, int* destination)
    {
        destination[0] = -8 * (q.GetElement(0) + q.GetElement(1) + q.GetElement(2) + q.GetElement(3));
        destination[1] = -8 * (q.GetElement(4) + q.GetElement(5) + q.GetElement(6) + q.GetElement(7));
    }
}
