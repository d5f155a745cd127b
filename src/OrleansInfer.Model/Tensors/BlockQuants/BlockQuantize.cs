using System.Buffers.Binary;
using System.Numerics.Tensors;

namespace OrleansInfer.Model.Tensors.BlockQuants;

/// <summary>ggml's reference encoders of the 32-value block types (quantize_row_q4_0_ref ... q8_0_ref).</summary>
internal static class BlockQuantize
{
    public static void Q8_0(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / 32; b++)
        {
            var x = source.Slice(b * 32, 32);
            var block = destination.Slice(b * 34, 34);
            var amax = TensorPrimitives.MaxMagnitude(x);
            var d = Math.Abs(amax) / 127f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (var j = 0; j < 32; j++) block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>Symmetric 4-bit: the signed value of largest magnitude maps to -8.</summary>
    public static void Q4_0(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / 32; b++)
        {
            var x = source.Slice(b * 32, 32);
            var block = destination.Slice(b * 18, 18);
            var d = SignedMax(x) / -8f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (var j = 0; j < 16; j++)
            {
                var xi0 = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
                var xi1 = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
                block[2 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <summary>Asymmetric 4-bit: d = (max - min) / 15, m = min.</summary>
    public static void Q4_1(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / 32; b++)
        {
            var x = source.Slice(b * 32, 32);
            var block = destination.Slice(b * 20, 20);
            var (min, max) = MinMax(x);
            var d = (max - min) / 15;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            BinaryPrimitives.WriteHalfLittleEndian(block[2..], (Half)min);
            for (var j = 0; j < 16; j++)
            {
                var xi0 = Math.Min(15, (int)(sbyte)((x[j] - min) * id + 0.5f));
                var xi1 = Math.Min(15, (int)(sbyte)((x[j + 16] - min) * id + 0.5f));
                block[4 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <summary>Symmetric 5-bit: the signed value of largest magnitude maps to -16.</summary>
    public static void Q5_0(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / 32; b++)
        {
            var x = source.Slice(b * 32, 32);
            var block = destination.Slice(b * 22, 22);
            var d = SignedMax(x) / -16f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            uint qh = 0;
            for (var j = 0; j < 16; j++)
            {
                var xi0 = Math.Min(31, (int)(sbyte)(x[j] * id + 16.5f));
                var xi1 = Math.Min(31, (int)(sbyte)(x[j + 16] * id + 16.5f));
                block[6 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= (uint)((xi0 & 0x10) >> 4) << j;
                qh |= (uint)((xi1 & 0x10) >> 4) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(block[2..], qh);
        }
    }

    /// <summary>Asymmetric 5-bit: d = (max - min) / 31, m = min.</summary>
    public static void Q5_1(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / 32; b++)
        {
            var x = source.Slice(b * 32, 32);
            var block = destination.Slice(b * 24, 24);
            var (min, max) = MinMax(x);
            var d = (max - min) / 31;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            BinaryPrimitives.WriteHalfLittleEndian(block[2..], (Half)min);
            uint qh = 0;
            for (var j = 0; j < 16; j++)
            {
                int xi0 = (byte)((x[j] - min) * id + 0.5f);
                int xi1 = (byte)((x[j + 16] - min) * id + 0.5f);
                block[8 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= (uint)((xi0 & 0x10) >> 4) << j;
                qh |= (uint)((xi1 & 0x10) >> 4) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(block[4..], qh);
        }
    }

    /// <summary>The first value of largest magnitude, with its sign.</summary>
    private static float SignedMax(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
        }
        return max;
    }

    private static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        var min = float.MaxValue;
        var max = -float.MaxValue;
        foreach (var v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }
}
