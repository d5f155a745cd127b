using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>The KV row encodings: q8_0 bit-identical to ggml's reference quantizer, f16 to System.Half, and their decoding.</summary>
public sealed unsafe class KvRowTests
{
    private static float[] Row(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 6 - 3);
        x[5] = 0.5f * (1 / 127f) * 3; // values near rounding midpoints and an all-zero block exercise the edge cases
        for (var i = 64; i < Math.Min(n, 96); i++) x[i] = 0;
        return x;
    }

    [Fact]
    public void Q8RowsAreGgmlBlocks()
    {
        var x = Row(128, 1);
        var expected = new byte[4 * 34];
        Quantize.Row(GgmlType.Q8_0, x, expected);
        var actual = new byte[4 * 34];
        var decoded = new float[128];
        var scratch = new float[128];
        fixed (float* xp = x)
        fixed (byte* dst = actual)
        fixed (float* s = scratch)
        {
            Q8KvRow.Write(xp, dst, 128);
            new ReadOnlySpan<float>(Q8KvRow.Read(dst, s, 128), 128).CopyTo(decoded);
        }
        Assert.Equal(expected, actual);
        var reference = new float[128];
        Dequantize.Row(GgmlType.Q8_0, expected, reference);
        Assert.Equal(reference, decoded);
    }

    [Fact]
    public void F16RowsRoundToNearestHalf()
    {
        var x = Row(40, 2);
        var bytes = new byte[80];
        var decoded = new float[40];
        fixed (float* xp = x)
        fixed (byte* dst = bytes)
        fixed (float* s = decoded)
        {
            F16KvRow.Write(xp, dst, 40);
            Assert.True(F16KvRow.Read(dst, s, 40) == s, "f16 rows decode into the scratch row");
        }
        Assert.Equal(x.Select(v => (float)(Half)v).ToArray(), decoded);
    }

    [Fact]
    public void F32RowsAreReadInPlace()
    {
        var bytes = new byte[16];
        fixed (byte* p = bytes) Assert.True(F32KvRow.Read(p, null, 4) == (float*)p, "f32 rows are read where they lie");
    }
}
