using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Tensors;

public sealed class QuantizeTests
{
    [Fact]
    public void Q8_0MatchesGgmlsReferenceEncoding()
    {
        // amax 1.27 -> d = 0.01; x * (1/d) rounds half away from zero.
        var x = new float[32];
        x[0] = 1.27f;
        x[1] = -0.635f;
        x[2] = 0.005f;
        var bytes = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, bytes);
        Assert.Equal((Half)0.01f, BitConverter.ToHalf(bytes, 0));
        Assert.Equal(127, (sbyte)bytes[2]);
        Assert.Equal(-64, (sbyte)bytes[3]); // -63.5 -> -64
        Assert.Equal(1, (sbyte)bytes[4]);   // 0.5 -> 1
    }

    [Fact]
    public void Q4_0UsesTheSignedMaximumAsMinusEight()
    {
        var x = new float[32];
        x[0] = -8f;  // largest magnitude, negative: d = -8 / -8 = 1
        x[16] = 7f;
        x[1] = 2.4f;
        var bytes = new byte[18];
        Quantize.Row(GgmlType.Q4_0, x, bytes);
        Assert.Equal((Half)1f, BitConverter.ToHalf(bytes, 0));
        Assert.Equal(0, bytes[2] & 0x0F);       // -8 + 8
        Assert.Equal(15, bytes[2] >> 4);        // 7 + 8
        Assert.Equal(10, bytes[3] & 0x0F);      // (int)(2.4 + 8.5) = 10
        var back = new float[32];
        Dequantize.Row(GgmlType.Q4_0, bytes, back);
        Assert.Equal(-8f, back[0]);
        Assert.Equal(7f, back[16]);
        Assert.Equal(2f, back[1]);
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void RoundTripErrorIsWithinTheFormatsStep(GgmlType type)
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 256).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var bytes = new byte[GgmlTypeInfo.ByteCount(type, x.Length)];
        Quantize.Row(type, x, bytes);
        var y = new float[x.Length];
        Dequantize.Row(type, bytes, y);
        var step = type switch { GgmlType.F16 => 2e-3, GgmlType.BF16 => 1.6e-2, GgmlType.Q8_0 => 2.0 / 127, _ => 2.0 / 7 };
        for (var i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= step, $"{type} [{i}]: {x[i]} -> {y[i]}");
    }

    [Fact]
    public void Bf16RoundsToNearestEven()
    {
        Assert.Equal(0x3F80, Quantize.ToBFloat16(1f));
        Assert.Equal(0x3F80, Quantize.ToBFloat16(BitConverter.Int32BitsToSingle(0x3F808000))); // tie, even stays
        Assert.Equal(0x3F82, Quantize.ToBFloat16(BitConverter.Int32BitsToSingle(0x3F818000))); // tie, odd rounds up
        Assert.True((Quantize.ToBFloat16(float.NaN) & 0x7FC0) == 0x7FC0);
    }
}
