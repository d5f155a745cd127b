using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using OrleansInfer.Model.Tensors.BlockQuants;
using OrleansInfer.Model.Tensors.KQuants;

namespace OrleansInfer.Model.Tensors;

/// <summary>
/// Encoding of f32 rows, byte-identical to ggml's reference quantizers (quantize_row_*_ref in ggml-quants.c,
/// which llama.cpp uses when no importance matrix is given).
/// </summary>
public static class Quantize
{
    /// <summary>Whether <see cref="Row"/> can produce <paramref name="type"/>.</summary>
    public static bool CanEncode(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>Encodes <paramref name="source"/> (a whole number of blocks) into <paramref name="destination"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        var n = source.Length;
        if (!CanEncode(type)) throw new NotSupportedException($"cannot encode ggml type {GgmlTypeInfo.Name(type)}");
        if (n % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{n} values are not a whole number of {GgmlTypeInfo.Name(type)} blocks", nameof(source));
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
            case GgmlType.Q8_0: BlockQuantize.Q8_0(source, destination); break;
            case GgmlType.Q4_0: BlockQuantize.Q4_0(source, destination); break;
            case GgmlType.Q4_1: BlockQuantize.Q4_1(source, destination); break;
            case GgmlType.Q5_0: BlockQuantize.Q5_0(source, destination); break;
            case GgmlType.Q5_1: BlockQuantize.Q5_1(source, destination); break;
            case GgmlType.Q2_K: KQuantQuantizeLow.Q2K(source, destination); break;
            case GgmlType.Q3_K: KQuantQuantizeLow.Q3K(source, destination); break;
            case GgmlType.Q4_K: KQuantQuantize.Q4K(source, destination); break;
            case GgmlType.Q5_K: KQuantQuantize.Q5K(source, destination); break;
            case GgmlType.Q6_K: KQuantQuantize.Q6K(source, destination); break;
            case GgmlType.Q8_K: KQuantQuantize.Q8K(source, destination); break;
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
