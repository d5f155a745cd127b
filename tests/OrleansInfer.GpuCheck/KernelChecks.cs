using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck;

/// <summary>
/// Each kernel on fresh random inputs against a double-precision reference; every check returns the relative
/// error (L2). Shared by the unit tests (CPU emulator, 32-thread warps) and the GPU check (CUDA).
/// </summary>
public static partial class KernelChecks
{
    /// <summary>Y = X Wᵀ (M ≤ 4 rows per launch), stored, added to Y, or SwiGLU/GeGLU-gated.</summary>
    public static double Gemv(KernelHarness h, GgmlType type, int m, int n, int k, MatMulMode mode, int seed)
    {
        var rng = new Random(seed);
        var rows = mode >= MatMulMode.SwiGlu ? 2 * n : n;
        var (w, wv) = RandomWeights.Create(h, type, rows, k, rng);
        using var _ = w;
        var x = RandomWeights.Gaussian(rng, m * k);
        var y0 = RandomWeights.Gaussian(rng, m * n);
        var y = h.Upload(y0);
        var xv = h.Upload(x);
        var config = new KernelConfig((n + GemvKernel.WarpsPerGroup - 1) / GemvKernel.WarpsPerGroup, GemvKernel.WarpsPerGroup * h.Accelerator.WarpSize);
        for (var m0 = 0; m0 < m; m0 += GemvKernel.MaxRows)
        {
            var args = new MatMulArgs { M = Math.Min(GemvKernel.MaxRows, m - m0), N = n, K = k, Ldx = k, Ldy = n, Mode = mode };
            var xs = xv.SubView((long)m0 * k);
            var ys = y.SubView((long)m0 * n);
            h.Kernels.Gemv(config, w, xs, ys, args);
        }
        return RandomWeights.RelativeError(h.Read(y), Reference(x, wv, y0, m, n, k, mode));
    }

    /// <summary>Y = X Wᵀ through the 64 × 64 shared-memory tiles (any M, N, K), stored or added.</summary>
    public static double Tiled(KernelHarness h, GgmlType type, int m, int n, int k, MatMulMode mode, int seed)
    {
        var rng = new Random(seed);
        var (w, wv) = RandomWeights.Create(h, type, n, k, rng);
        using var _ = w;
        var x = RandomWeights.Gaussian(rng, m * k);
        var y0 = RandomWeights.Gaussian(rng, m * n);
        var y = h.Upload(y0);
        var config = new KernelConfig(
            new Index2D((n + TiledMatMulKernel.TileN - 1) / TiledMatMulKernel.TileN, (m + TiledMatMulKernel.TileM - 1) / TiledMatMulKernel.TileM),
            new Index2D(TiledMatMulKernel.Threads, 1));
        var args = new MatMulArgs { M = m, N = n, K = k, Ldx = k, Ldy = n, Mode = mode };
        var xv = h.Upload(x);
        h.Kernels.Tiled(config, w, xv, y, args);
        return RandomWeights.RelativeError(h.Read(y), Reference(x, wv, y0, m, n, k, mode));
    }

    private static double[] Reference(float[] x, float[] w, float[] y0, int m, int n, int k, MatMulMode mode)
    {
        var r = new double[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double s = 0, u = 0;
                for (var c = 0; c < k; c++)
                {
                    s += (double)x[i * k + c] * w[j * k + c];
                    if (mode >= MatMulMode.SwiGlu) u += (double)x[i * k + c] * w[(n + j) * k + c];
                }
                r[i * n + j] = mode switch
                {
                    MatMulMode.Add => y0[i * n + j] + s,
                    MatMulMode.SwiGlu => s / (1 + Math.Exp(-s)) * u,
                    MatMulMode.GeGlu => GeluGgml(s) * u,
                    _ => s,
                };
            }
        }
        return r;
    }

    /// <summary>RMSNorm of <paramref name="rows"/> rows (optionally gathered through a row map).</summary>
    public static double RmsNorm(KernelHarness h, int rows, int size, bool gather, int seed)
    {
        var rng = new Random(seed);
        var x = RandomWeights.Gaussian(rng, (rows + 3) * size, 2f);
        var w = RandomWeights.Gaussian(rng, size);
        var map = Enumerable.Range(0, rows).Select(r => gather ? (r * 7 + 2) % (rows + 3) : r).ToArray();
        var y = h.Upload(new float[rows * size]);
        var args = new RmsNormArgs { Rows = rows, Size = size, Eps = 1e-5f, Gather = gather ? 1 : 0 };
        h.Kernels.RmsNorm(new KernelConfig(Math.Min(rows, 3), RmsNormKernel.Threads), h.Upload(x), h.Upload(w), h.Upload(map), y, args);
        var expected = new double[rows * size];
        for (var r = 0; r < rows; r++)
        {
            var src = map[r] * size;
            double ss = 0;
            for (var i = 0; i < size; i++) ss += (double)x[src + i] * x[src + i];
            var scale = 1 / Math.Sqrt(ss / size + 1e-5);
            for (var i = 0; i < size; i++) expected[r * size + i] = x[src + i] * scale * w[i];
        }
        return RandomWeights.RelativeError(h.Read(y), expected);
    }

    /// <summary>SwiGLU (or GeGLU) of a prefill-shaped W1 | W3 product.</summary>
    public static double SwiGlu(KernelHarness h, int tokens, int hidden, int seed, MatMulMode mode = MatMulMode.SwiGlu)
    {
        var rng = new Random(seed);
        var h13 = RandomWeights.Gaussian(rng, 2 * tokens * hidden, 3f);
        var y = h.Upload(new float[tokens * hidden]);
        h.Kernels.SwiGlu(tokens * hidden, h.Upload(h13), y, hidden, mode);
        var expected = new double[tokens * hidden];
        for (var t = 0; t < tokens; t++)
            for (var j = 0; j < hidden; j++)
            {
                double g = h13[2 * t * hidden + j], u = h13[2 * t * hidden + hidden + j];
                expected[t * hidden + j] = (mode == MatMulMode.GeGlu ? GeluGgml(g) : g / (1 + Math.Exp(-g))) * u;
            }
        return RandomWeights.RelativeError(h.Read(y), expected);
    }

    /// <summary>Embedding gather from any weight format, times <paramref name="scale"/> (gemma's sqrt(dim)).</summary>
    public static double Embedding(KernelHarness h, GgmlType type, int vocab, int dim, int tokens, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var (w, wv) = RandomWeights.Create(h, type, vocab, dim, rng);
        using var _ = w;
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(vocab)).ToArray();
        var x = h.Upload(new float[tokens * dim]);
        var idv = h.Upload(ids);
        h.Kernels.Embed(tokens * dim, w, idv, x, dim, scale);
        var expected = ids.SelectMany(id => wv.Skip(id * dim).Take(dim).Select(v => (double)v * scale)).ToArray();
        return RandomWeights.RelativeError(h.Read(x), expected);
    }
}
