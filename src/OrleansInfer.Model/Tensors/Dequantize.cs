using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using OrleansInfer.Model.Tensors.BlockQuants;
using OrleansInfer.Model.Tensors.KQuants;

namespace OrleansInfer.Model.Tensors;

/// <summary>
/// Conversion of ggml-encoded rows to f32, bit-identical to ggml's dequantize_row_* (ggml-quants.c) for every
/// type <see cref="GgmlTypeInfo.IsSupported"/> names.
/// </summary>
public static class Dequantize
{
    /// <summary>Decodes <paramref name="destination"/>.Length values (a whole number of blocks) from <paramref name="source"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var n = destination.Length;
        if (n % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{n} values are not a whole number of {GgmlTypeInfo.Name(type)} blocks", nameof(destination));
        if (source.Length < GgmlTypeInfo.ByteCount(type, n))
            throw new ArgumentException($"{source.Length} bytes are fewer than {n} {GgmlTypeInfo.Name(type)} values need", nameof(source));
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
            case GgmlType.Q8_0: BlockDequantize.Q8_0(source, destination); break;
            case GgmlType.Q4_0: BlockDequantize.Q4_0(source, destination); break;
            case GgmlType.Q4_1: BlockDequantize.Q4_1(source, destination); break;
            case GgmlType.Q5_0: BlockDequantize.Q5(source, destination, withMin: false); break;
            case GgmlType.Q5_1: BlockDequantize.Q5(source, destination, withMin: true); break;
            case GgmlType.Q2_K: KQuantDequantize.Q2K(source, destination); break;
            case GgmlType.Q3_K: KQuantDequantize.Q3K(source, destination); break;
            case GgmlType.Q4_K: KQuantDequantize.Q4K(source, destination); break;
            case GgmlType.Q5_K: KQuantDequantize.Q5K(source, destination); break;
            case GgmlType.Q6_K: KQuantDequantize.Q6K(source, destination); break;
            case GgmlType.Q8_K: KQuantDequantize.Q8K(source, destination); break;
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
                throw new NotSupportedException($"cannot dequantize ggml type {GgmlTypeInfo.Name(type)}");
        }
    }
}
