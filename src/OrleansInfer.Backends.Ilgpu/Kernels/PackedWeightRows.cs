using ILGPU;
using ILGPU.Util;
using Half = ILGPU.Half;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// A weight format of 4-bit codes (plus 2 high bits for Q6_K) kept packed on the device. Codes are in row order:
/// value v of a row is nibble v (byte v / 2, low nibble first), so 8 values are one 4-byte word and 32 values one
/// 16-byte load; the high bits likewise (2 bits per value, 8 values per 16 bits, 32 per 8 bytes).
/// </summary>
public interface IPackedWeightRows : IWeightRows
{
    /// <summary>The packed data of W[row, col..col+32), col a multiple of 32.</summary>
    Packed32 Load32(long row, int col);
}

/// <summary>
/// 32 consecutive weights as loaded, dequantized per 8 with <see cref="Expand"/>: code q = nibble | high bits ≪ 4,
/// w = Scale_h · (q − Offset) − Min_h, h = 0 for values 0..15 and 1 for 16..31 (Q6_K's scales cover 16 values).
/// </summary>
public struct Packed32
{
    /// <summary>Nibbles: X values 0..7, Y 8..15, Z 16..23, W 24..31.</summary>
    public Int4 Low;

    /// <summary>High bits (Q6_K): X values 0..15, Y 16..31; zero for the 4-bit formats.</summary>
    public Int2 High;

    public float Scale0, Scale1, Min0, Min1;
    public int Offset;

    /// <summary>Values 8·part .. 8·part + 8 (part a constant 0..3, so the selection folds away).</summary>
    public readonly Vec8 Expand(int part)
    {
        var low = part == 0 ? Low.X : part == 1 ? Low.Y : part == 2 ? Low.Z : Low.W;
        var highWord = part < 2 ? High.X : High.Y;
        var high = (part & 1) == 0 ? highWord & 0xFFFF : (int)((uint)highWord >> 16);
        return part < 2 ? PackedMath.Expand8(low, high, Scale0, Min0, Offset) : PackedMath.Expand8(low, high, Scale1, Min1, Offset);
    }
}

/// <summary>Dequantization of 8 packed codes, shared by the packed formats.</summary>
public static class PackedMath
{
    /// <summary>w_i = scale · (q_i − offset) − min, q_i = nibble i of <paramref name="low"/> | (2 bits i of <paramref name="high"/>) ≪ 4.</summary>
    public static Vec8 Expand8(int low, int high, float scale, float min, int offset)
    {
        Vec8 v;
        v.V0 = Value(low, high, 0, scale, min, offset);
        v.V1 = Value(low, high, 1, scale, min, offset);
        v.V2 = Value(low, high, 2, scale, min, offset);
        v.V3 = Value(low, high, 3, scale, min, offset);
        v.V4 = Value(low, high, 4, scale, min, offset);
        v.V5 = Value(low, high, 5, scale, min, offset);
        v.V6 = Value(low, high, 6, scale, min, offset);
        v.V7 = Value(low, high, 7, scale, min, offset);
        return v;
    }

    private static float Value(int low, int high, int i, float scale, float min, int offset)
    {
        var q = ((low >> (4 * i)) & 0xF) | (((high >> (2 * i)) & 3) << 4);
        return scale * (q - offset) - min;
    }

    /// <summary>Nibble <paramref name="at"/> (row-order index) of a byte array.</summary>
    public static int Nibble(ArrayView<byte> nibbles, long at) => (nibbles[at >> 1] >> (int)((at & 1) << 2)) & 0xF;

    /// <summary>Two f16 values packed low-first in 32 bits, as f32.</summary>
    public static float LowHalf(int packed) => (float)Interop.IntAsFloat((ushort)(packed & 0xFFFF));

    public static float HighHalf(int packed) => (float)Interop.IntAsFloat((ushort)((uint)packed >> 16));
}

/// <summary>Q4_0 kept packed: w = d · (q − 8), one f16 d per 32 values (row * Ld / 32 + col / 32).</summary>
public struct Q40Rows : IPackedWeightRows
{
    public ArrayView<byte> Nibbles;
    public ArrayView<int> NibbleWords;
    public ArrayView<Int4> NibbleQuads;
    public ArrayView<Half> Scales;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Packed32 Load32(long row, int col)
    {
        var at = row * Ld + col;
        var d = (float)Scales[at >> 5];
        return new Packed32 { Low = NibbleQuads[at >> 5], Scale0 = d, Scale1 = d, Offset = 8 };
    }

    public readonly Vec8 Load8(long row, int col)
    {
        var at = row * Ld + col;
        return PackedMath.Expand8(NibbleWords[at >> 3], 0, (float)Scales[at >> 5], 0f, 8);
    }

    public readonly float Load(long row, int col)
    {
        var at = row * Ld + col;
        return (float)Scales[at >> 5] * (PackedMath.Nibble(Nibbles, at) - 8);
    }
}

/// <summary>
/// Q4_K kept packed: w = d·sc · q − dmin·m, with the 6-bit (sc, m) of each 32 values unpacked at upload into
/// <c>ScaleMins</c> (sc | m ≪ 8, one per 32) and the f16 pair (d, dmin) of each 256 in <c>SuperScales</c> (d | dmin ≪ 16).
/// </summary>
public struct Q4KRows : IPackedWeightRows
{
    public ArrayView<byte> Nibbles;
    public ArrayView<int> NibbleWords;
    public ArrayView<Int4> NibbleQuads;
    public ArrayView<ushort> ScaleMins;
    public ArrayView<int> SuperScales;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Packed32 Load32(long row, int col)
    {
        var at = row * Ld + col;
        var (scale, min) = ScaleMin(at);
        return new Packed32 { Low = NibbleQuads[at >> 5], Scale0 = scale, Scale1 = scale, Min0 = min, Min1 = min };
    }

    public readonly Vec8 Load8(long row, int col)
    {
        var at = row * Ld + col;
        var (scale, min) = ScaleMin(at);
        return PackedMath.Expand8(NibbleWords[at >> 3], 0, scale, min, 0);
    }

    public readonly float Load(long row, int col)
    {
        var at = row * Ld + col;
        var (scale, min) = ScaleMin(at);
        return scale * PackedMath.Nibble(Nibbles, at) - min;
    }

    // As ggml: d1 = d * sc and m1 = dmin * m in f32.
    private readonly (float Scale, float Min) ScaleMin(long at)
    {
        var dd = SuperScales[at >> 8];
        int sm = ScaleMins[at >> 5];
        return (PackedMath.LowHalf(dd) * (sm & 0xFF), PackedMath.HighHalf(dd) * (sm >> 8));
    }
}

/// <summary>
/// Q6_K kept packed: w = d·sc · (q − 32), q = 4 low bits (<c>Nibbles</c>) | 2 high bits (<c>HighBits</c>) ≪ 4, one
/// int8 sc per 16 values (<c>Scales</c>; two per 32 in <c>ScalePairs</c>) and one f16 d per 256 (<c>SuperScales</c>).
/// </summary>
public struct Q6KRows : IPackedWeightRows
{
    public ArrayView<byte> Nibbles;
    public ArrayView<int> NibbleWords;
    public ArrayView<Int4> NibbleQuads;
    public ArrayView<byte> HighBits;
    public ArrayView<ushort> HighWords;
    public ArrayView<Int2> HighQuads;
    public ArrayView<sbyte> Scales;
    public ArrayView<short> ScalePairs;
    public ArrayView<Half> SuperScales;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Packed32 Load32(long row, int col)
    {
        var at = row * Ld + col;
        var d = (float)SuperScales[at >> 8];
        int pair = ScalePairs[at >> 5];
        return new Packed32
        {
            Low = NibbleQuads[at >> 5], High = HighQuads[at >> 5],
            Scale0 = d * (sbyte)(pair & 0xFF), Scale1 = d * (sbyte)((pair >> 8) & 0xFF), Offset = 32,
        };
    }

    public readonly Vec8 Load8(long row, int col)
    {
        var at = row * Ld + col;
        return PackedMath.Expand8(NibbleWords[at >> 3], HighWords[at >> 3], (float)SuperScales[at >> 8] * Scales[at >> 4], 0f, 32);
    }

    public readonly float Load(long row, int col)
    {
        var at = row * Ld + col;
        var q = PackedMath.Nibble(Nibbles, at) | (((HighBits[at >> 2] >> (int)((at & 3) << 1)) & 3) << 4);
        return (float)SuperScales[at >> 8] * Scales[at >> 4] * (q - 32);
    }
}
