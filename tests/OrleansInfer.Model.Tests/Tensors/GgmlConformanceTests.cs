using System.Buffers.Binary;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Tensors;

/// <summary>
/// Our <see cref="Dequantize"/> and <see cref="Quantize"/> against llama.cpp's own ggml functions on the same
/// input: floats equal bit for bit, encodings equal byte for byte.
/// </summary>
public sealed class GgmlConformanceTests
{
    public static TheoryData<GgmlType> ReadTypes() =>
    [
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    ];

    public static TheoryData<GgmlType, string> EncodeCases()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var type in ReadTypes())
        {
            foreach (var distribution in RowSamples.Distributions) data.Add(type, distribution);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ReadTypes))]
    public void DequantizedRandomBlocksEqualGgmls(GgmlType type)
    {
        var blocks = 96;
        var values = blocks * GgmlTypeInfo.BlockSize(type);
        var bytes = RandomBlocks(type, blocks, new Random(1000 + (int)type));
        var ours = new float[values];
        var theirs = new float[values];
        Dequantize.Row(type, bytes, ours);
        GgmlNative.DequantizeRow(type, bytes, theirs);
        AssertSameBits(type, theirs, ours);
    }

    [Theory]
    [MemberData(nameof(EncodeCases))]
    public void EncodedRowsEqualGgmlsReferenceQuantizer(GgmlType type, string distribution)
    {
        var x = RowSamples.Row(distribution, 8 * GgmlTypeInfo.QK_K, seed: 17 * (int)type);
        var bytes = (int)GgmlTypeInfo.ByteCount(type, x.Length);
        var ours = new byte[bytes];
        var theirs = new byte[bytes];
        Quantize.Row(type, x, ours);
        GgmlNative.QuantizeRow(type, x, theirs);
        var block = GgmlTypeInfo.BlockBytes(type);
        for (var i = 0; i < bytes; i++)
        {
            Assert.True(theirs[i] == ours[i],
                $"{GgmlTypeInfo.Name(type)} {distribution}: byte {i % block} of block {i / block} should be ggml's 0x{theirs[i]:x2}, was 0x{ours[i]:x2}");
        }
    }

    [Fact]
    public void TheReferenceLibraryIsLlamaSharpsGgmlBase()
    {
        var probe = new float[32];
        GgmlNative.DequantizeRow(GgmlType.Q8_0, new byte[34], probe);
        Assert.EndsWith("libggml-base.so", GgmlNative.LoadedFrom);
    }

    /// <summary>Random bytes with every f16 (and Q8_K's f32) scale replaced by a random finite value.</summary>
    internal static byte[] RandomBlocks(GgmlType type, int blocks, Random rng)
    {
        var size = GgmlTypeInfo.BlockBytes(type);
        var bytes = new byte[blocks * size];
        rng.NextBytes(bytes);
        for (var b = 0; b < blocks; b++)
        {
            var block = bytes.AsSpan(b * size, size);
            if (type == GgmlType.Q8_K)
            {
                BinaryPrimitives.WriteSingleLittleEndian(block, (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-30, 30))));
                continue;
            }
            foreach (var at in HalfScaleOffsets(type)) BinaryPrimitives.WriteHalfLittleEndian(block[at..], FiniteHalf(rng));
        }
        return bytes;
    }

    private static int[] HalfScaleOffsets(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Any f16 bit pattern but infinities and NaNs (subnormals included).</summary>
    private static Half FiniteHalf(Random rng)
    {
        while (true)
        {
            var h = BitConverter.UInt16BitsToHalf((ushort)rng.Next(0, 1 << 16));
            if (Half.IsFinite(h)) return h;
        }
    }

    private static void AssertSameBits(GgmlType type, float[] expected, float[] actual)
    {
        var block = GgmlTypeInfo.BlockSize(type);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = BitConverter.SingleToInt32Bits(expected[i]);
            var a = BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(e == a,
                $"{GgmlTypeInfo.Name(type)} value {i % block} of block {i / block} should be ggml's {expected[i]:R} (0x{e:x8}), was {actual[i]:R} (0x{a:x8})");
        }
    }
}
