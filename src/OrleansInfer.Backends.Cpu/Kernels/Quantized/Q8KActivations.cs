using System.Numerics;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Activation rows quantized for the K-quant products, as llama.cpp's block_q8_K: per 256 values an f32 scale d,
/// 256 int8 values and 16 int16 sums of 16 values each (the sums fold the weights' minimums in one multiply).
/// The bytes equal ggml's <c>quantize_row_q8_K_ref</c> for finite input on every <see cref="Simd.Level"/>.
/// </summary>
internal static unsafe class Q8KActivations
{
    public const int BlockBytes = 292;

    /// <summary>Bytes of one quantized row of <paramref name="k"/> values (k a multiple of 256).</summary>
    public static long RowBytes(int k) => (long)k / 256 * BlockBytes;

    /// <summary>Quantizes <paramref name="k"/> floats (a multiple of 256) into k/256 blocks at <paramref name="destination"/>.</summary>
    public static void Quantize(float* x, int k, byte* destination)
    {
        if (k <= 0 || k % KQuantBlocks.QK != 0) throw new ArgumentOutOfRangeException(nameof(k), k, "Q8_K rows are whole blocks of 256 values");
        var simd = Simd.Level != SimdLevel.Scalar;
        for (var b = 0; b < k / KQuantBlocks.QK; b++)
        {
            var xb = x + b * KQuantBlocks.QK;
            var block = destination + (long)b * BlockBytes;
            if (simd) QuantizeBlockVector(xb, block);
            else QuantizeBlockScalar(xb, block);
        }
    }

    /// <summary>ggml's reference, value by value: the signed value of largest magnitude (its first occurrence)
    /// maps to -127, so iscale = -127 / max, every value rounds half to even and d = 1 / iscale.</summary>
    private static void QuantizeBlockScalar(float* x, byte* block)
    {
        float max = 0, amax = 0;
        for (var j = 0; j < KQuantBlocks.QK; j++)
        {
            var ax = MathF.Abs(x[j]);
            if (ax > amax)
            {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0)
        {
            ZeroBlock(block);
            return;
        }
        var iscale = -127f / max;
        var qs = (sbyte*)(block + KQuantBlocks.Q8KQs);
        for (var j = 0; j < KQuantBlocks.QK; j++) qs[j] = (sbyte)Math.Min(127, (int)MathF.Round(iscale * x[j]));
        var bsums = (short*)(block + KQuantBlocks.Q8KBsums);
        for (var g = 0; g < 16; g++)
        {
            var sum = 0;
            for (var i = 0; i < 16; i++) sum += qs[g * 16 + i];
            bsums[g] = (short)sum;
        }
        *(float*)block = 1f / iscale;
    }

    /// <summary>The same arithmetic eight lanes at a time (the same IEEE multiply and round-half-even), so the bytes
    /// are identical to the scalar path.</summary>
    private static void QuantizeBlockVector(float* x, byte* block)
    {
        var amaxv = Vector256<float>.Zero;
        for (var i = 0; i < KQuantBlocks.QK; i += 8) amaxv = Vector256.Max(amaxv, Vector256.Abs(Vector256.Load(x + i)));
        var amax = HorizontalMax(amaxv);
        if (amax == 0)
        {
            ZeroBlock(block);
            return;
        }
        var max = x[FirstIndexOfMagnitude(x, amax)];
        var iscale = -127f / max;
        var scale = Vector256.Create(iscale);
        var limit = Vector256.Create(127);
        var qs = (sbyte*)(block + KQuantBlocks.Q8KQs);
        var bsums = (short*)(block + KQuantBlocks.Q8KBsums);
        for (var g = 0; g < 16; g++)
        {
            var q0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + g * 16) * scale)), limit);
            var q1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + g * 16 + 8) * scale)), limit);
            var shorts = Vector256.Narrow(q0, q1);
            Vector256.Narrow(shorts, shorts).GetLower().Store(qs + g * 16);
            bsums[g] = (short)Vector256.Sum(q0 + q1);
        }
        *(float*)block = 1f / iscale;
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    private static int FirstIndexOfMagnitude(float* x, float amax)
    {
        var target = Vector256.Create(amax);
        for (var i = 0; ; i += 8)
        {
            var hits = Vector256.Equals(Vector256.Abs(Vector256.Load(x + i)), target).ExtractMostSignificantBits();
            if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
        }
    }

    /// <summary>An all-zero block: d 0 and every quant and sum 0 (ggml leaves bsums untouched; zero is their value).</summary>
    private static void ZeroBlock(byte* block) => new Span<byte>(block, BlockBytes).Clear();
}
