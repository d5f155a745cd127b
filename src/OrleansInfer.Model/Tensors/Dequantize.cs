using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace OrleansInfer.Model.Tensors;

/// <summary>Conversion of ggml-encoded rows to f32 (reference layouts of ggml-quants.c).</summary>
public static class Dequantize
{
    /// <summary>Decodes <paramref name="destination"/>.Length values from <paramref name="source"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var n = destination.Length;
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(source)[..n].CopyTo(destination);
                break;
            case GgmlType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source)[..n], destination);
                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(source);
                for (var i = 0; i < n; i++) destination[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < n / 32; b++)
                {
                    var block = source.Slice(b * 34, 34);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    var qs = MemoryMarshal.Cast<byte, sbyte>(block[2..]);
                    var dst = destination.Slice(b * 32, 32);
                    for (var j = 0; j < 32; j++) dst[j] = qs[j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (var b = 0; b < n / 32; b++)
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
                break;
            case GgmlType.Q4_1:
                for (var b = 0; b < n / 32; b++)
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
                break;
            case GgmlType.Q5_0:
            case GgmlType.Q5_1:
                var q51 = type == GgmlType.Q5_1;
                var bytes = q51 ? 24 : 22;
                for (var b = 0; b < n / 32; b++)
                {
                    var block = source.Slice(b * bytes, bytes);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    var m = q51 ? (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]) : 0f;
                    var at = q51 ? 4 : 2;
                    var qh = BinaryPrimitives.ReadUInt32LittleEndian(block[at..]);
                    var qs = block[(at + 4)..];
                    var dst = destination.Slice(b * 32, 32);
                    var offset = q51 ? 0 : 16;
                    for (var j = 0; j < 16; j++)
                    {
                        var xh0 = (int)((qh >> j) << 4) & 0x10;
                        var xh1 = (int)(qh >> (j + 12)) & 0x10;
                        dst[j] = (((qs[j] & 0x0F) | xh0) - offset) * d + m;
                        dst[j + 16] = (((qs[j] >> 4) | xh1) - offset) * d + m;
                    }
                }
                break;
            case GgmlType.I8:
                var i8 = MemoryMarshal.Cast<byte, sbyte>(source);
                for (var i = 0; i < n; i++) destination[i] = i8[i];
                break;
            case GgmlType.I16:
                var i16 = MemoryMarshal.Cast<byte, short>(source);
                for (var i = 0; i < n; i++) destination[i] = i16[i];
                break;
            case GgmlType.I32:
                var i32 = MemoryMarshal.Cast<byte, int>(source);
                for (var i = 0; i < n; i++) destination[i] = i32[i];
                break;
            default:
                throw new NotSupportedException($"cannot dequantize ggml type {type}");
        }
    }
}
