using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>
/// A deliberately plain double-precision Llama forward pass over a whole token sequence (no cache, no SIMD,
/// no batching): the reference the CPU runner is checked against on synthetic shapes.
/// </summary>
public sealed class NaiveLlama(ModelFile model)
{
    private readonly LlamaConfig _c = model.Config!;
    private readonly LlamaWeights _w = model.Weights!;

    /// <summary>Logits after the last token of <paramref name="tokens"/>.</summary>
    public double[] LastLogits(IReadOnlyList<int> tokens)
    {
        int dim = _c.EmbeddingLength, hd = _c.HeadDim, n = tokens.Count;
        var emb = _w.TokenEmbedding.ToFloatArray();
        var x = new double[n][];
        for (var t = 0; t < n; t++) x[t] = emb.Skip(tokens[t] * dim).Take(dim).Select(v => (double)v).ToArray();

        foreach (var l in _w.Layers)
        {
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (var t = 0; t < n; t++)
            {
                var xb = RmsNorm(x[t], l.RmsAttWeight.ToFloatArray());
                q[t] = Rope(MatVec(l.Wq, xb), t, _c.HeadCount);
                k[t] = Rope(MatVec(l.Wk, xb), t, _c.KvHeadCount);
                v[t] = MatVec(l.Wv, xb);
            }
            for (var t = 0; t < n; t++)
            {
                var att = new double[dim];
                for (var h = 0; h < _c.HeadCount; h++)
                {
                    var kvh = h / _c.GroupSize;
                    var scores = new double[t + 1];
                    for (var p = 0; p <= t; p++)
                    {
                        double s = 0;
                        for (var i = 0; i < hd; i++) s += q[t][h * hd + i] * k[p][kvh * hd + i];
                        scores[p] = s / Math.Sqrt(hd);
                    }
                    var max = scores.Max();
                    var e = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = e.Sum();
                    for (var p = 0; p <= t; p++)
                        for (var i = 0; i < hd; i++) att[h * hd + i] += e[p] / sum * v[p][kvh * hd + i];
                }
                var o = MatVec(l.Wo, att);
                for (var i = 0; i < dim; i++) x[t][i] += o[i];

                var xb2 = RmsNorm(x[t], l.RmsFfnWeight.ToFloatArray());
                var g = MatVec(l.W1, xb2);
                var u = MatVec(l.W3, xb2);
                for (var i = 0; i < g.Length; i++) g[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
                var d = MatVec(l.W2, g);
                for (var i = 0; i < dim; i++) x[t][i] += d[i];
            }
        }
        return MatVec(_w.Classifier, RmsNorm(x[n - 1], _w.RmsFinalWeight.ToFloatArray()));
    }

    private double[] RmsNorm(double[] x, float[] w)
    {
        var ss = x.Sum(v => v * v) / x.Length + _c.RmsEpsilon;
        return x.Select((v, i) => v / Math.Sqrt(ss) * w[i]).ToArray();
    }

    private static double[] MatVec(Model.Tensors.TensorView w, double[] x)
    {
        var m = w.ToFloatArray();
        var rows = (int)w.Rows;
        var cols = (int)w.Columns;
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var c = 0; c < cols; c++) s += m[r * cols + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    private double[] Rope(double[] v, int pos, int heads)
    {
        var hd = _c.HeadDim;
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < _c.RopeDimensionCount; i += 2)
            {
                var freq = Math.Pow(_c.RopeBase, -(double)i / _c.RopeDimensionCount);
                var (sin, cos) = Math.SinCos(pos * freq);
                double a = v[h * hd + i], b = v[h * hd + i + 1];
                v[h * hd + i] = a * cos - b * sin;
                v[h * hd + i + 1] = a * sin + b * cos;
            }
        }
        return v;
    }
}
