using ILGPU;
using ILGPU.Util;
using Half = ILGPU.Half;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>Eight consecutive weights of one row, widened to f32 (one 16-byte load for f16).</summary>
public struct Vec8
{
    public float V0, V1, V2, V3, V4, V5, V6, V7;
}

/// <summary>
/// A weight matrix of <c>Rows</c> rows × <c>Cols</c> values as kernels read it: W[n, k] is row n, column k
/// (ggml [In, Out] = Out rows of In contiguous values). Rows are stored <c>Ld</c> elements apart, Ld a multiple of 8
/// (32 for Q8_0), so <see cref="Load8"/> at a column that is a multiple of 8 is an aligned vector load.
/// </summary>
public interface IWeightRows
{
    int Cols { get; }

    /// <summary>W[row, col..col+8), col a multiple of 8 and col + 8 &lt;= Cols.</summary>
    Vec8 Load8(long row, int col);

    /// <summary>W[row, col].</summary>
    float Load(long row, int col);
}

/// <summary>f32 weights: Data is Rows × Ld floats.</summary>
public struct F32Rows : IWeightRows
{
    public ArrayView<float> Data;
    public ArrayView<Float4> Quads;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Vec8 Load8(long row, int col)
    {
        var i = (row * Ld + col) >> 2;
        var a = Quads[i];
        var b = Quads[i + 1];
        return new Vec8 { V0 = a.X, V1 = a.Y, V2 = a.Z, V3 = a.W, V4 = b.X, V5 = b.Y, V6 = b.Z, V7 = b.W };
    }

    public readonly float Load(long row, int col) => Data[row * Ld + col];
}

/// <summary>f16 weights (GGUF F16 bits as ILGPU.Half): Data is Rows × Ld halves; Octets views the same memory 8 halves at a time.</summary>
public struct F16Rows : IWeightRows
{
    public ArrayView<Half> Data;
    public ArrayView<Int4> Octets;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Vec8 Load8(long row, int col)
    {
        var p = Octets[(row * Ld + col) >> 3];
        Vec8 v;
        (v.V0, v.V1) = Unpack(p.X);
        (v.V2, v.V3) = Unpack(p.Y);
        (v.V4, v.V5) = Unpack(p.Z);
        (v.V6, v.V7) = Unpack(p.W);
        return v;
    }

    public readonly float Load(long row, int col) => (float)Data[row * Ld + col];

    /// <summary>Two f16 values packed low-first in 32 bits, widened.</summary>
    public static (float Low, float High) Unpack(int packed) =>
        ((float)Interop.IntAsFloat((ushort)(packed & 0xFFFF)), (float)Interop.IntAsFloat((ushort)((uint)packed >> 16)));
}

/// <summary>
/// Q8_0 weights kept quantized: Quants is Rows × Ld signed bytes, Scales one f16 per 32-value block
/// (row * Ld / 32 + col / 32); w = scale * q, dequantized in registers.
/// </summary>
public struct Q8Rows : IWeightRows
{
    public ArrayView<sbyte> Quants;
    public ArrayView<Int2> QuantOctets;
    public ArrayView<Half> Scales;
    public int ColCount;
    public int Ld;

    public readonly int Cols => ColCount;

    public readonly Vec8 Load8(long row, int col)
    {
        var at = row * Ld + col;
        var d = (float)Scales[at >> 5];
        var q = QuantOctets[at >> 3];
        Vec8 v;
        v.V0 = d * (sbyte)(q.X & 0xFF);
        v.V1 = d * (sbyte)((q.X >> 8) & 0xFF);
        v.V2 = d * (sbyte)((q.X >> 16) & 0xFF);
        v.V3 = d * (sbyte)((q.X >> 24) & 0xFF);
        v.V4 = d * (sbyte)(q.Y & 0xFF);
        v.V5 = d * (sbyte)((q.Y >> 8) & 0xFF);
        v.V6 = d * (sbyte)((q.Y >> 16) & 0xFF);
        v.V7 = d * (sbyte)((q.Y >> 24) & 0xFF);
        return v;
    }

    public readonly float Load(long row, int col)
    {
        var at = row * Ld + col;
        return (float)Scales[at >> 5] * Quants[at];
    }
}
