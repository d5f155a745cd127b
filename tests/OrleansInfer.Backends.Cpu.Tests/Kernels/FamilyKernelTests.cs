using OrleansInfer.Model;
using OrleansInfer.Backends.Cpu.Kernels;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels;

/// <summary>The kernels the model families added: ggml's table GELU, NEOX RoPE, windowed paged attention.</summary>
public sealed unsafe class FamilyKernelTests
{
    [Theory]
    [InlineData(-10f, 0f)]
    [InlineData(-10.5f, 0f)]
    [InlineData(10f, 10f)]
    [InlineData(12.25f, 12.25f)]
    [InlineData(0f, 0f)]
    public void GeluClampsOutsideTheTable(float x, float expected) => Assert.Equal(expected, Gelu.Of(x));

    [Fact]
    public void GeluRoundsThroughHalfAsGgmlsTable()
    {
        var rng = new Random(3);
        for (var i = 0; i < 10000; i++)
        {
            var x = (float)(rng.NextDouble() * 24 - 12);
            var expected = x <= -10 ? 0f : x >= 10 ? x : (float)(Half)GgmlGelu.Exact((float)(Half)x);
            Assert.True(expected == Gelu.Of(x), $"gelu({x}) = {Gelu.Of(x)}, ggml's table gives {expected}");
        }
        // The table's rounding is visible: 0.1 is not a half, gelu(0.1) in f32 differs from the table value.
        Assert.NotEqual(GgmlGelu.Exact(0.1f), Gelu.Of(0.1f));
    }

    [Fact]
    public void NeoxRotatesHalvesAndLeavesTheRestAlone()
    {
        float[] v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        float[] cos = [0.5f, -1f], sin = [0.25f, 0f];
        fixed (float* p = v, c = cos, s = sin) Rope.ApplyNeox(p, 2, 5, 2, c, s);
        // Head 0: pairs (1, 3) and (2, 4); value 5 untouched. Head 1: pairs (6, 8), (7, 9); 10 untouched.
        Assert.Equal([1 * 0.5f - 3 * 0.25f, 2 * -1f - 0, 1 * 0.25f + 3 * 0.5f, 0 + 4 * -1f, 5, 6 * 0.5f - 8 * 0.25f, -7f, 6 * 0.25f + 8 * 0.5f, -9f, 10], v);
    }

    /// <summary>Keys and values before the window are NaN: were they read (even masked), the output would be NaN.</summary>
    [Fact]
    public void WindowedAttentionNeverReadsBlocksBeforeItsStart()
    {
        const int bs = 4, hd = 8, blocks = 5, end = 18, start = 9;
        var rng = new Random(5);
        var k = new float[blocks * bs * hd];
        var v = new float[blocks * bs * hd];
        for (var i = 0; i < k.Length; i++) (k[i], v[i]) = ((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() - 0.5f);
        int[] table = [4, 0, 3, 1, 2]; // logical block b lives in physical block table[b]
        // Positions 0..7 (logical blocks 0 and 1) are wholly before the window: poison them.
        foreach (var physical in table[..2])
            for (var i = physical * bs * hd; i < (physical + 1) * bs * hd; i++) (k[i], v[i]) = (float.NaN, float.NaN);
        var q = Enumerable.Range(0, hd).Select(_ => (float)rng.NextDouble()).ToArray();
        var scores = new float[end];
        var row = new float[hd];
        var output = new float[hd];
        fixed (float* pq = q, pk = k, pv = v, ps = scores, pr = row, po = output)
            PagedAttention.Head<F32KvRow>(pq, (byte*)pk, (byte*)pv, table, bs, hd * sizeof(float), 0, hd, start, end, 0.5f, 2f, ps, pr, po);

        // Reference: softmax over positions 9..17 of 2·tanh(0.5·q·k / 2).
        var expected = new double[hd];
        var weights = new double[end - start];
        for (var p = start; p < end; p++)
        {
            var at = (table[p / bs] * bs + p % bs) * hd;
            double s = 0;
            for (var i = 0; i < hd; i++) s += q[i] * k[at + i];
            weights[p - start] = Math.Exp(2 * Math.Tanh(0.5 * s / 2));
        }
        var sum = weights.Sum();
        for (var p = start; p < end; p++)
        {
            var at = (table[p / bs] * bs + p % bs) * hd;
            for (var i = 0; i < hd; i++) expected[i] += weights[p - start] / sum * v[at + i];
        }
        for (var i = 0; i < hd; i++) Assert.True(Math.Abs(expected[i] - output[i]) <= 1e-6, $"output {i}: {output[i]}, expected {expected[i]}");
    }
}
