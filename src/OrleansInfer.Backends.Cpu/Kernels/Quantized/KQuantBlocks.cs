using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// ggml's K-quant super-block layouts (256 weights each) and the pieces every K-quant path shares:
/// the f16 scale conversion, the 6-bit scale/min unpacking of Q4_K and Q5_K, and the Q8_K field offsets.
/// </summary>
internal static unsafe class KQuantBlocks
{
    public const int QK = 256;

    // block_q4_K: f16 d, f16 dmin, scales[12] (8 six-bit scales and 8 six-bit mins), qs[128] (two nibbles per byte).
    public const int Q4KBytes = 144;
    public const int Q4KScales = 4;
    public const int Q4KQs = 16;

    // block_q5_K: as Q4_K plus qh[32], the fifth bit of every weight.
    public const int Q5KBytes = 176;
    public const int Q5KScales = 4;
    public const int Q5KQh = 16;
    public const int Q5KQs = 48;

    // block_q6_K: ql[128] (low nibbles), qh[64] (two high bits each), int8 scales[16] (one per 16 weights), f16 d last.
    public const int Q6KBytes = 210;
    public const int Q6KQh = 128;
    public const int Q6KScales = 192;
    public const int Q6KD = 208;

    // block_q8_K: f32 d, int8 qs[256], int16 bsums[16] (sums of each 16 qs).
    public const int Q8KQs = 4;
    public const int Q8KBsums = 260;

    /// <summary>
    /// IEEE binary16 to float, exactly (System.Half's conversion is a slower software path, and this runs for every
    /// block of every row). The 15 bits shifted into place are a float whose exponent is 112 too small; one exact
    /// multiply by 2^112 rebias normals and turns half subnormals into float normals. Inf/NaN keep an all-ones exponent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16(byte* p)
    {
        uint h = *(ushort*)p;
        var magnitude = (h & 0x7fffu) << 13;
        var value = magnitude >= 0x0f800000u
            ? BitConverter.UInt32BitsToSingle(magnitude | 0x7f800000u)
            : BitConverter.UInt32BitsToSingle(magnitude) * BitConverter.UInt32BitsToSingle(0x77800000u); // 2^112
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) | ((h & 0x8000u) << 16));
    }

    /// <summary>
    /// Q4_K/Q5_K's 12 packed bytes as 8 scales then 8 mins, zero-extended to 16 shorts. Bytes 0-3 hold scales 0-3
    /// and bytes 4-7 mins 0-3 in their low 6 bits; scales/mins 4-7 are the nibbles of bytes 8-11 with their top two
    /// bits in the spare high bits of bytes 0-7 (ggml's get_scale_min_k4, done four at a time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> ScalesAndMins(byte* p)
    {
        var a0 = *(uint*)p;
        var a1 = *(uint*)(p + 4);
        var a2 = *(uint*)(p + 8);
        var scales03 = a0 & 0x3f3f3f3fu;
        var scales47 = (a2 & 0x0f0f0f0fu) | (((a0 >> 6) & 0x03030303u) << 4);
        var mins03 = a1 & 0x3f3f3f3fu;
        var mins47 = ((a2 >> 4) & 0x0f0f0f0fu) | (((a1 >> 6) & 0x03030303u) << 4);
        var bytes = Vector128.Create(scales03, scales47, mins03, mins47).AsByte();
        return Vector256.Create(Vector128.WidenLower(bytes), Vector128.WidenUpper(bytes)).AsInt16();
    }

    /// <summary>
    /// <see cref="ScalesAndMins"/> in vector registers (AVX2), for the SIMD kernels: 16 bytes are read, the block's
    /// first four quant bytes after the 12 scale bytes are loaded and ignored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> ScalesAndMinsAvx2(byte* p)
    {
        var v = Vector128.Load((uint*)p);
        var a = Sse2.Shuffle(v, 0b10_01_10_00); // a0 a2 a1 a2
        var b = Sse2.Shuffle(v, 0b01_01_00_00); // a0 a0 a1 a1
        var low6 = a & Vector128.Create(0x3f3f3f3fu);
        var nibbles = Avx2.ShiftRightLogicalVariable(a, Vector128.Create(0u, 0u, 0u, 4u)) & Vector128.Create(0x0f0f0f0fu);
        var top2 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(b, 6) & Vector128.Create(0x03030303u), 4);
        var packed = Avx2.Blend(low6, nibbles | top2, 0b1010);
        return Avx2.ConvertToVector256Int16(packed.AsByte()).AsInt16();
    }

    /// <summary>Two adjacent f16 values (Q4_K/Q5_K's d and dmin) as lanes 0 and 1, by <see cref="Fp16"/>'s method
    /// without branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fp16Pair(byte* p)
    {
        var h = Vector128.WidenLower(Vector128.CreateScalar(*(uint*)p).AsUInt16());
        var magnitude = (h & Vector128.Create(0x7fffu)) << 13;
        var finite = magnitude.AsSingle() * Vector128.Create(BitConverter.UInt32BitsToSingle(0x77800000u));
        var infOrNaN = (magnitude | Vector128.Create(0x7f800000u)).AsSingle();
        var isInfOrNaN = Vector128.GreaterThanOrEqual(magnitude.AsInt32(), Vector128.Create(0x0f800000)).AsSingle();
        return (Vector128.ConditionalSelect(isInfOrNaN, infOrNaN, finite).AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Writes one product: y = v, or y += v when accumulating.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* y, float v, bool accumulate) => *y = accumulate ? *y + v : v;
}

/// <summary>How many activation rows (tokens) one pass over a weight row serves; a type argument so each count is
/// its own specialised loop with its accumulators in registers.</summary>
internal interface ITokenGroup
{
    static abstract int Count { get; }
}

internal readonly struct OneToken : ITokenGroup { public static int Count => 1; }
internal readonly struct TwoTokens : ITokenGroup { public static int Count => 2; }
internal readonly struct ThreeTokens : ITokenGroup { public static int Count => 3; }
internal readonly struct FourTokens : ITokenGroup { public static int Count => 4; }

/// <summary>Whether the 256-bit path scales and adds its 16-bit products with AVX-VNNI's vpdpwssd (one instruction)
/// instead of AVX2's vpmaddwd + vpaddd; the integer results are identical.</summary>
internal interface IScaleAdd
{
    static abstract bool Vnni { get; }
}

internal readonly struct Avx2ScaleAdd : IScaleAdd { public static bool Vnni => false; }
internal readonly struct VnniScaleAdd : IScaleAdd { public static bool Vnni => true; }
