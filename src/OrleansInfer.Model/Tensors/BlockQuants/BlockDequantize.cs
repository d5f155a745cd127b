using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace OrleansInfer.Model.Tensors.BlockQuants;

/// <summary>Decoding of ggml's 32-value block types (dequantize_row_q4_0 ... q8_0 in ggml-quants.c).</summary>
internal static class BlockDequantize
{
    /// <summary>Block: f16 d, int8 qs[32].</summary>
    public static void Q8_0(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / 32; b++)
        {
            var block = source.Slice(b * 34, 34);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var qs = MemoryMarshal.Cast<byte, sbyte>(block[2..]);
            var dst = destination.Slice(b * 32, 32);
            for (var j = 0; j < 32; j++) dst[j] = qs[j] * d;
        }
    }

    /// <summary>Block: f16 d, qs[16] (value j in the low nibble of byte j, value j+16 in the high one), offset 8.</summary>
    public static void Q4_0(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / 32; b++)
        {
            var block = source.Slice(b * 18, 18);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var dst = destination.Slice(b * 32, 32);
            for (var j = 0; j < 16; j++)
            {
                var q = block[2 + j];
                dst[j] = ((q & 0x0F) - 8) * d;
                dst[j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    /// <summary>Block: f16 d, f16 m, qs[16]; value = q * d + m.</summary>
    public static void Q4_1(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / 32; b++)
        {
            var block = source.Slice(b * 20, 20);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var dst = destination.Slice(b * 32, 32);
            for (var j = 0; j < 16; j++)
            {
                var q = block[4 + j];
                dst[j] = (q & 0x0F) * d + m;
                dst[j + 16] = (q >> 4) * d + m;
            }
        }
    }

    /// <summary>Q5_0 (f16 d, qh, qs; offset 16) and Q5_1 (f16 d, f16 m, qh, qs; value = q * d + m).</summary>
    public static void Q5(ReadOnlySpan<byte> source, Span<float> destination, bool withMin)
    {
        var bytes = withMin ? 24 : 22;
        var at = withMin ? 4 : 2;
        for (var b = 0; b < destination.Length / 32; b++)
        {
            var block = source.Slice(b * bytes, bytes);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var qh = BinaryPrimitives.ReadUInt32LittleEndian(block[at..]);
            var qs = block[(at + 4)..];
            var dst = destination.Slice(b * 32, 32);
            if (withMin)
            {
                var m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
                for (var j = 0; j < 16; j++)
                {
                    dst[j] = ((qs[j] & 0x0F) | High(qh, j)) * d + m;
                    dst[j + 16] = ((qs[j] >> 4) | High(qh, j + 16)) * d + m;
                }
            }
            else
            {
                for (var j = 0; j < 16; j++)
                {
                    dst[j] = (((qs[j] & 0x0F) | High(qh, j)) - 16) * d;
                    dst[j + 16] = (((qs[j] >> 4) | High(qh, j + 16)) - 16) * d;
                }
            }
        }
    }

    /// <summary>The fifth bit of value <paramref name="j"/>, as 0 or 16.</summary>
    private static int High(uint qh, int j) => (int)((qh >> j) << 4) & 0x10;
}
