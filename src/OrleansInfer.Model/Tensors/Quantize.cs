using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace OrleansInfer.Model.Tensors;

/// <summary>Encoding of f32 rows into the types the writer produces (ggml's reference quantizers).</summary>
public static class Quantize
{
    public static bool CanEncode(GgmlType type) =>
        type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>Encodes <paramref name="source"/> (a whole number of blocks) into <paramref name="destination"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        var n = source.Length;
        if (n % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{n} values are not a whole number of {type} blocks", nameof(source));
        if (destination.Length < GgmlTypeInfo.ByteCount(type, n))
            throw new ArgumentException("destination too small", nameof(destination));
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case GgmlType.F16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)[..n]);
                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(destination);
                for (var i = 0; i < n; i++) bf[i] = ToBFloat16(source[i]);
                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < n / 32; b++)
                {
                    var x = source.Slice(b * 32, 32);
                    var block = destination.Slice(b * 34, 34);
                    var amax = TensorPrimitives.MaxMagnitude(x);
                    var d = Math.Abs(amax) / 127f;
                    var id = d != 0 ? 1f / d : 0f;
                    BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
                    for (var j = 0; j < 32; j++) block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
                }
                break;
            case GgmlType.Q4_0:
                for (var b = 0; b < n / 32; b++)
                {
                    var x = source.Slice(b * 32, 32);
                    var block = destination.Slice(b * 18, 18);
                    float amax = 0, max = 0;
                    foreach (var v in x)
                    {
                        if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
                    }
                    var d = max / -8f;
                    var id = d != 0 ? 1f / d : 0f;
                    BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
                    for (var j = 0; j < 16; j++)
                    {
                        var xi0 = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
                        var xi1 = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
                        block[2 + j] = (byte)(xi0 | (xi1 << 4));
                    }
                }
                break;
            default:
                throw new NotSupportedException($"cannot encode ggml type {type}");
        }
    }

    /// <summary>f32 to bf16 with round-to-nearest-even, NaN kept quiet (as ggml does).</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) return (ushort)((bits >> 16) | 64);
        return (ushort)((bits + (0x7fff + ((bits >> 16) & 1))) >> 16);
    }
}
