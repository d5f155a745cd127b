using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>Reads weight values of one floating-point encoding as f32 lanes (widened in registers, never stored).</summary>
internal unsafe interface IFloatWeights
{
    /// <summary>16 values from element <paramref name="i"/> of <paramref name="row"/>.</summary>
    static abstract Vector512<float> Load512(byte* row, int i);

    /// <summary>8 values from element <paramref name="i"/> of <paramref name="row"/>.</summary>
    static abstract Vector256<float> Load256(byte* row, int i);

    static abstract float Load(byte* row, int i);
}

internal readonly unsafe struct F32Weights : IFloatWeights
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i) => Vector512.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i) => Vector256.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => ((float*)row)[i];
}

/// <summary>
/// IEEE half → f32 without F16C (which .NET does not expose): the sign-extended half shifted left by 13 holds the
/// sign, exponent and mantissa in f32 position with the exponent 112 too small (and subnormal halves as subnormal
/// floats), so one multiply by 2^112 rebiases both exactly. Infinities and NaNs come out finite (weights have none).
/// </summary>
internal readonly unsafe struct F16Weights : IFloatWeights
{
    private const int FieldMask = unchecked((int)0x8FFFE000);
    // 2^112. A constant, not a static field: a static read inside an AggressiveOptimization kernel keeps a class
    // initialization check (a possible call) in the loop, and every vector register live across it spills.
    private const float Rebias = 5.192296858534828E+33f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i)
    {
        var wide = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)row + i));
        return ((wide << 13) & Vector512.Create(FieldMask)).AsSingle() * Vector512.Create(Rebias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i)
    {
        var wide = Avx2.ConvertToVector256Int32(Vector128.Load((short*)row + i));
        return ((wide << 13) & Vector256.Create(FieldMask)).AsSingle() * Vector256.Create(Rebias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => ToSingle(((ushort*)row)[i]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort half) => BitConverter.Int32BitsToSingle(((short)half << 13) & FieldMask) * Rebias;
}

/// <summary>bfloat16 → f32: the upper half of the f32 bits.</summary>
internal readonly unsafe struct BF16Weights : IFloatWeights
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i) =>
        (Avx512F.ConvertToVector512Int32(Vector256.Load((short*)row + i)) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i) =>
        (Avx2.ConvertToVector256Int32(Vector128.Load((short*)row + i)) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* row, int i) => BitConverter.Int32BitsToSingle(((ushort*)row)[i] << 16);
}
