using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu.Kernels;

namespace OrleansInfer.GpuCheck;

/// <summary>The kernels of the other model families: per-head Q/K norms, biases, soft-capping, norms into the residual, GELU.</summary>
public static partial class KernelChecks
{
    /// <summary>
    /// ggml's CPU GELU as GeGLU applies it (f16-rounded input, f16-rounded tanh approximation; 0 below -10, x from
    /// 10 on), computed here from the formula with System.Half rather than read from the table the device uses
    /// (<see cref="OrleansInfer.Model.GgmlGelu"/>), so the check is independent of it (they may differ by one f16 step in a few entries).
    /// </summary>
    public static double GeluGgml(double s)
    {
        var x = (float)s;
        if (x <= -10f) return 0;
        if (x >= 10f) return x;
        var h = (float)(System.Half)x;
        var g = 0.5f * h * (1f + MathF.Tanh(0.7978845608028654f * h * (1f + 0.044715f * h * h)));
        return (float)(System.Half)g;
    }

    /// <summary>Per-head RMSNorm of the q and k heads in fused QKV rows (v untouched), with separate Q and K weights.</summary>
    public static double HeadNorm(KernelHarness h, int tokens, int heads, int kvHeads, int headDim, int seed)
    {
        var rng = new Random(seed);
        int ld = (heads + 2 * kvHeads) * headDim + 5;
        var qkv = RandomWeights.Gaussian(rng, tokens * ld, 2f);
        var qw = RandomWeights.Gaussian(rng, headDim);
        var kw = RandomWeights.Gaussian(rng, headDim);
        var view = h.Upload(qkv);
        var args = new HeadNormArgs { Tokens = tokens, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, QkvLd = ld, Eps = 1e-6f, NormQ = 1, NormK = 1 };
        h.Kernels.HeadNorm(new KernelConfig(2, HeadNormKernel.WarpsPerGroup * h.Accelerator.WarpSize), view, h.Upload(qw), h.Upload(kw), args);
        var expected = qkv.Select(v => (double)v).ToArray();
        for (var t = 0; t < tokens; t++)
            for (var hh = 0; hh < heads + kvHeads; hh++)
            {
                var at = t * ld + hh * headDim;
                double ss = 0;
                for (var d = 0; d < headDim; d++) ss += (double)qkv[at + d] * qkv[at + d];
                var scale = 1 / Math.Sqrt(ss / headDim + 1e-6);
                for (var d = 0; d < headDim; d++) expected[at + d] = qkv[at + d] * scale * (hh < heads ? qw : kw)[d];
            }
        return RandomWeights.RelativeError(h.Read(view), expected);
    }

    /// <summary>Bias added to the first columns of strided rows; the columns past them untouched.</summary>
    public static double BiasAdd(KernelHarness h, int tokens, int width, int ld, int seed)
    {
        var rng = new Random(seed);
        var y = RandomWeights.Gaussian(rng, tokens * ld);
        var bias = RandomWeights.Gaussian(rng, width);
        var view = h.Upload(y);
        h.Kernels.BiasAdd(tokens * width, view, h.Upload(bias), width, ld);
        var expected = y.Select((v, i) => (double)v + (i % ld < width ? bias[i % ld] : 0)).ToArray();
        return RandomWeights.RelativeError(h.Read(view), expected);
    }

    /// <summary>cap · tanh(y / cap) in place, over values well inside and well past the cap.</summary>
    public static double Softcap(KernelHarness h, int count, float cap, int seed)
    {
        var rng = new Random(seed);
        var y = RandomWeights.Gaussian(rng, count, 2 * cap);
        var view = h.Upload(y);
        h.Kernels.Softcap(count, view, cap, 1f / cap);
        return RandomWeights.RelativeError(h.Read(view), y.Select(v => cap * Math.Tanh(v / (double)cap)).ToArray());
    }

    /// <summary>Y += rmsnorm(X) · w (gemma's post norms into the residual stream).</summary>
    public static double RmsNormAccumulate(KernelHarness h, int rows, int size, int seed)
    {
        var rng = new Random(seed);
        var x = RandomWeights.Gaussian(rng, rows * size, 2f);
        var w = RandomWeights.Gaussian(rng, size);
        var y0 = RandomWeights.Gaussian(rng, rows * size);
        var y = h.Upload(y0);
        var args = new RmsNormArgs { Rows = rows, Size = size, Eps = 1e-6f, Accumulate = 1 };
        h.Kernels.RmsNorm(new KernelConfig(2, RmsNormKernel.Threads), h.Upload(x), h.Upload(w), h.Upload(new int[1]), y, args);
        var expected = new double[rows * size];
        for (var r = 0; r < rows; r++)
        {
            double ss = 0;
            for (var i = 0; i < size; i++) ss += (double)x[r * size + i] * x[r * size + i];
            var scale = 1 / Math.Sqrt(ss / size + 1e-6);
            for (var i = 0; i < size; i++) expected[r * size + i] = y0[r * size + i] + x[r * size + i] * scale * w[i];
        }
        return RandomWeights.RelativeError(h.Read(y), expected);
    }
}
