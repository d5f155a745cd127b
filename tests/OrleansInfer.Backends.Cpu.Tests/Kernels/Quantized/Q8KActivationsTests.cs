using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using static OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized.KQuantTestData;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized;

[Collection(SimdLevelCollection.Name)]
public sealed unsafe class Q8KActivationsTests
{
    public static TheoryData<string> Levels()
    {
        var data = new TheoryData<string>();
        foreach (var level in RunnableLevels()) data.Add(level.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void AZeroBlockIsAllZeroBytes(string level)
    {
        var block = Quantize(level, new float[512], fill: 0xAA);
        Assert.True(block.All(b => b == 0), $"{level}: every byte of two zero blocks is 0, got {Convert.ToHexString(block)}");
    }

    /// <summary>The largest value, positive here, maps to -127 (ggml's iscale = -127 / max); 0.01·-12.7 rounds to 0.</summary>
    [Theory]
    [MemberData(nameof(Levels))]
    public void OneOutlierTakesTheWholeRange(string level)
    {
        var x = Enumerable.Repeat(0.01f, 256).ToArray();
        x[5] = 10f;
        var block = Quantize(level, x);
        var (d, qs, bsums) = Read(block, 0);
        Assert.True(Math.Abs(d - -10.0 / 127) <= 1e-8, $"{level}: d = 1 / (-127 / 10) ≈ -0.0787402, got {d}");
        Assert.Equal(Enumerable.Range(0, 256).Select(i => i == 5 ? -127 : 0), qs.Select(q => (int)q));
        Assert.Equal(new[] { -127 }.Concat(Enumerable.Repeat(0, 15)), bsums.Select(s => (int)s));
    }

    /// <summary>-127 is the largest magnitude, so iscale is exactly 1: halves round to even and 127 stays 127.</summary>
    [Theory]
    [MemberData(nameof(Levels))]
    public void NegativesAndHalvesRoundToEven(string level)
    {
        var x = new float[256];
        float[] head = [-127f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.5f, -1.5f, 126.5f, -126.5f, 127f];
        head.CopyTo(x, 0);
        x[200] = -3.25f;
        var (d, qs, bsums) = Read(Quantize(level, x), 0);
        Assert.Equal(1f, d);
        int[] expectedHead = [-127, 2, 4, -2, 0, 0, 2, -2, 126, -126, 127];
        Assert.Equal(expectedHead, qs.Take(11).Select(q => (int)q));
        Assert.Equal(-3, qs[200]);
        Assert.True(qs.Where((_, i) => i >= 11 && i != 200).All(q => q == 0), $"{level}: the zeros stay 0");
        Assert.Equal(4, bsums[0]);
        Assert.Equal(-3, bsums[12]);
    }

    /// <summary>Equal magnitudes: the first one sets the sign of max (ggml keeps the first strictly larger value).</summary>
    [Theory]
    [MemberData(nameof(Levels))]
    public void TheFirstOfEqualMagnitudesSetsTheSign(string level)
    {
        var x = Enumerable.Repeat(1f, 256).ToArray();
        x[3] = -4f;
        x[10] = 4f;
        var (d, qs, bsums) = Read(Quantize(level, x), 0);
        Assert.True(Math.Abs(d - 4.0 / 127) <= 1e-9, $"{level}: d = 1 / 31.75 ≈ 0.0314961, got {d}");
        Assert.Equal(-127, qs[3]);
        Assert.Equal(127, qs[10]);
        Assert.True(qs.Where((_, i) => i != 3 && i != 10).All(q => q == 32), $"{level}: 31.75 rounds to 32");
        Assert.Equal(14 * 32, bsums[0]);
        Assert.True(bsums.Skip(1).All(s => s == 16 * 32), $"{level}: groups 1-15 sum to 512");
    }

    /// <summary>The vector path writes the scalar path's bytes, and every bsum is the sum of its 16 quants.</summary>
    [Fact]
    public void EveryLevelWritesTheSameBytesAndBsumsAreTheSumsOfQs()
    {
        var rng = new Random(12);
        const int k = 256 * 24;
        var x = new float[k];
        for (var b = 0; b < k / 256; b++)
        {
            var scale = Math.Pow(10, rng.Next(-6, 6));
            for (var i = 0; i < 256; i++)
            {
                // A third of the blocks are half-integers under a -127 maximum: every value is a rounding tie.
                x[b * 256 + i] = b % 3 == 0
                    ? (i == 17 ? -127f : rng.Next(-126, 126) + 0.5f)
                    : (float)((rng.NextDouble() * 2 - 1) * scale);
            }
        }
        var scalar = Quantize(nameof(SimdLevel.Scalar), x);
        foreach (var level in RunnableLevels())
        {
            var bytes = Quantize(level.ToString(), x);
            Assert.True(scalar.AsSpan().SequenceEqual(bytes), $"{level} differs from the scalar path at byte {scalar.AsSpan().CommonPrefixLength(bytes)}");
        }
        for (var b = 0; b < k / 256; b++)
        {
            var (_, qs, bsums) = Read(scalar, b);
            for (var g = 0; g < 16; g++) Assert.Equal(qs.Skip(16 * g).Take(16).Sum(q => q), bsums[g]);
            Assert.True(qs.Count(q => q == -127) >= 1, $"block {b}: the largest value maps to -127");
        }
    }

    [Fact]
    public void ARowThatIsNotWholeBlocksIsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Quantize(nameof(SimdLevel.Scalar), new float[300]));
        Assert.Equal("k", error.ParamName);
    }

    private static byte[] Quantize(string level, float[] x, byte fill = 0)
    {
        var bytes = new byte[Math.Max(1, x.Length / 256) * Q8KActivations.BlockBytes];
        Array.Fill(bytes, fill);
        At(Enum.Parse<SimdLevel>(level), () =>
        {
            fixed (float* px = x)
            fixed (byte* pb = bytes)
                Q8KActivations.Quantize(px, x.Length, pb);
        });
        return bytes;
    }

    private static (float D, sbyte[] Qs, short[] Bsums) Read(byte[] bytes, int block)
    {
        var b = bytes.AsSpan(block * Q8KActivations.BlockBytes, Q8KActivations.BlockBytes).ToArray();
        var qs = b.AsSpan(4, 256).ToArray().Select(v => (sbyte)v).ToArray();
        var bsums = Enumerable.Range(0, 16).Select(g => BitConverter.ToInt16(b, 260 + 2 * g)).ToArray();
        return (BitConverter.ToSingle(b, 0), qs, bsums);
    }
}
