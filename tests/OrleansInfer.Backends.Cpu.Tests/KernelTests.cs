using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;

namespace OrleansInfer.Backends.Cpu.Tests;

public sealed unsafe class KernelTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var t in new[] { 1, 2, 3, 4, 5, 7, 9 })
            foreach (var k in new[] { 1, 7, 16, 33, 64, 100 })
                foreach (var n in new[] { 1, 3, 4, 5, 17 })
                    data.Add(t, k, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatMulMatchesADoublePrecisionProduct(int tokens, int k, int n)
    {
        var rng = new Random(tokens * 1000 + k * 10 + n);
        var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var y = Enumerable.Range(0, tokens * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var initial = (float[])y.Clone();
        foreach (var accumulate in new[] { false, true })
        {
            y = (float[])initial.Clone();
            fixed (float* px = x, pw = w, py = y)
            {
                // Two calls over disjoint row ranges, as the parallel job splits them.
                var mid = n / 2;
                var matrix = WeightMatrix.F32(pw, n, k);
                var rows = new ActivationRows(px, null, null, tokens, k);
                MatMul.Rows(matrix, rows, py, n, 0, mid, accumulate, Simd.Detected);
                MatMul.Rows(matrix, rows, py, n, mid, n, accumulate, Simd.Detected);
            }
            for (var t = 0; t < tokens; t++)
            {
                for (var j = 0; j < n; j++)
                {
                    double s = accumulate ? initial[t * n + j] : 0;
                    for (var i = 0; i < k; i++) s += (double)x[t * k + i] * w[j * k + i];
                    Assert.True(Math.Abs(s - y[t * n + j]) <= 1e-5 * (k + 1), $"y[{t},{j}] = {y[t * n + j]}, expected {s} (accumulate {accumulate})");
                }
            }
        }
    }

    [Fact]
    public void RmsNormAndSwiGluMatchTheirDefinitions()
    {
        var x = new float[] { 1, -2, 3, 0.5f, 7 };
        var w = new float[] { 1, 2, 0.5f, -1, 3 };
        var o = new float[5];
        fixed (float* po = o, px = x, pw = w) Norms.RmsNorm(po, px, pw, 5, 1e-5f);
        var rms = Math.Sqrt(x.Sum(v => (double)v * v) / 5 + 1e-5);
        for (var i = 0; i < 5; i++) Assert.Equal(x[i] / rms * w[i], o[i], 5);

        var g = Enumerable.Range(0, 1500).Select(i => (i - 750) / 100f).ToArray();
        var u = Enumerable.Range(0, 1500).Select(i => (i % 7) - 3f).ToArray();
        var expected = g.Zip(u, (a, b) => a / (1 + Math.Exp(-a)) * b).ToArray();
        fixed (float* pg = g, pu = u) Norms.SwiGlu(pg, pu, g.Length);
        for (var i = 0; i < g.Length; i++) Assert.True(Math.Abs(expected[i] - g[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"swiglu[{i}]");
    }

    [Fact]
    public void WorkerPoolRunsEveryItemExactlyOnce()
    {
        using var pool = new WorkerPool(3);
        var work = new CountingWork(1000);
        for (var run = 0; run < 200; run++)
        {
            var items = run % 17 + 1;
            Array.Clear(work.Counts);
            pool.Run(work, items);
            for (var i = 0; i < items; i++) Assert.Equal(1, work.Counts[i]);
            Assert.All(work.Counts.Skip(items), c => Assert.Equal(0, c));
        }
    }

    private sealed class CountingWork(int size) : IParallelWork
    {
        public int[] Counts { get; } = new int[size];

        public void Execute(int item, int worker) => Interlocked.Increment(ref Counts[item]);
    }
}
