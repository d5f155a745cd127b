using System.Runtime.Intrinsics;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized;

public sealed unsafe class KQuantBlocksTests
{
    [Fact]
    public void Fp16ConvertsEveryHalfAsSystemHalfDoes()
    {
        for (var bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var h = (ushort)bits;
            var expected = (float)BitConverter.UInt16BitsToHalf(h);
            var pair = (uint)h | (uint)(ushort)~h << 16;
            var expectedSecond = (float)BitConverter.UInt16BitsToHalf((ushort)~h);
            var vector = KQuantBlocks.Fp16Pair((byte*)&pair);
            AssertSame(expected, KQuantBlocks.Fp16((byte*)&h), $"Fp16 of half 0x{bits:X4}");
            AssertSame(expected, vector.GetElement(0), $"Fp16Pair lane 0 of half 0x{bits:X4}");
            AssertSame(expectedSecond, vector.GetElement(1), $"Fp16Pair lane 1 of half 0x{(ushort)~h:X4}");
        }
    }

    private static void AssertSame(float expected, float actual, string what)
        => Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
            $"{what}: expected {expected}, got {actual}");

    /// <summary>The four-at-a-time unpacking equals ggml's get_scale_min_k4 for every index.</summary>
    [Fact]
    public void ScalesAndMinsEqualGetScaleMinK4()
    {
        var rng = new Random(4);
        var q = new byte[16];
        var unpacked = new short[16];
        var vector = new short[16];
        for (var trial = 0; trial < 1000; trial++)
        {
            rng.NextBytes(q);
            fixed (byte* pq = q)
            fixed (short* pu = unpacked)
            {
                KQuantBlocks.ScalesAndMins(pq).Store(pu);
                if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                {
                    fixed (short* pv = vector) KQuantBlocks.ScalesAndMinsAvx2(pq).Store(pv);
                    Assert.True(unpacked.AsSpan().SequenceEqual(vector), $"{Convert.ToHexString(q)}: the AVX2 unpacking gives [{string.Join(' ', vector)}], the scalar one [{string.Join(' ', unpacked)}]");
                }
            }
            for (var j = 0; j < 8; j++)
            {
                var (scale, min) = j < 4
                    ? (q[j] & 63, q[j + 4] & 63)
                    : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));
                Assert.True(scale == unpacked[j] && min == unpacked[8 + j], $"{Convert.ToHexString(q)} index {j}: expected ({scale}, {min}), got ({unpacked[j]}, {unpacked[8 + j]})");
            }
        }
    }
}
