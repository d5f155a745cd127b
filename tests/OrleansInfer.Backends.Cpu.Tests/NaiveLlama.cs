using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>
/// A deliberately plain double-precision decoder forward pass over a whole token sequence (no cache, no SIMD, no
/// batching, no paging): the reference the CPU runner is checked against on synthetic shapes. It follows the
/// contract's per-layer order with every family feature: embedding scale; q/k/v biases; per-head q/k RMSNorm; RoPE on
/// adjacent pairs or NEOX halves with per-layer bases (gemma3's local base) and frequency factors; attention scale,
/// logit soft-capping and sliding windows; per-layer head counts and widths; SiLU or GELU gates; post norms; final
/// soft-capping. GELU is ggml's (an f16 table lookup between -10 and 10), which the runner matches on purpose.
/// </summary>
public sealed class NaiveLlama(ModelFile model)
{
    private readonly LlamaConfig _c = model.Config!;
    private readonly LlamaWeights _w = model.Weights!;

    /// <summary>Logits after the last token of <paramref name="tokens"/>.</summary>
    public double[] LastLogits(IReadOnlyList<int> tokens) => AllLogits(tokens)[^1];

    /// <summary>Logits after each position of <paramref name="tokens"/> (row p predicts the token after position p).</summary>
    public double[][] AllLogits(IReadOnlyList<int> tokens)
    {
        int dim = _c.EmbeddingLength, hd = _c.HeadDim, n = tokens.Count;
        var emb = _w.TokenEmbedding.ToFloatArray();
        var x = new double[n][];
        for (var t = 0; t < n; t++) x[t] = emb.Skip(tokens[t] * dim).Take(dim).Select(v => v * (double)_c.EmbeddingScale).ToArray();

        for (var layer = 0; layer < _w.Layers.Length; layer++)
        {
            var l = _w.Layers[layer];
            int heads = _c.HeadCountOf(layer), kvHeads = _c.KvHeadCountOf(layer), group = heads / kvHeads;
            var (freqs, ropeScale) = Frequencies(layer);
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (var t = 0; t < n; t++)
            {
                var xb = RmsNorm(x[t], l.RmsAttWeight.ToFloatArray());
                q[t] = Rope(HeadNorms(Add(MatVec(l.Wq, xb), l.Bq), l.QNorm, heads), t, heads, freqs, ropeScale);
                k[t] = Rope(HeadNorms(Add(MatVec(l.Wk, xb), l.Bk), l.KNorm, kvHeads), t, kvHeads, freqs, ropeScale);
                v[t] = Add(MatVec(l.Wv, xb), l.Bv);
            }
            var window = _c.IsSlidingWindowLayer(layer) ? _c.SlidingWindow!.Value : int.MaxValue;
            for (var t = 0; t < n; t++)
            {
                var att = new double[heads * hd];
                var first = Math.Max(0, t - window + 1); // key p visible iff t - p < window
                for (var h = 0; h < heads; h++)
                {
                    var kvh = h / group;
                    var scores = new double[t + 1 - first];
                    for (var p = first; p <= t; p++)
                    {
                        double s = 0;
                        for (var i = 0; i < hd; i++) s += q[t][h * hd + i] * k[p][kvh * hd + i];
                        s *= _c.AttentionScale;
                        if (_c.AttentionLogitSoftcap is { } cap) s = cap * Math.Tanh(s / cap);
                        scores[p - first] = s;
                    }
                    var max = scores.Max();
                    var e = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = e.Sum();
                    for (var p = first; p <= t; p++)
                        for (var i = 0; i < hd; i++) att[h * hd + i] += e[p - first] / sum * v[p][kvh * hd + i];
                }
                AddResidual(x[t], MatVec(l.Wo, att), l.PostAttentionNorm);

                var xb2 = RmsNorm(x[t], l.RmsFfnWeight.ToFloatArray());
                var g = MatVec(l.W1, xb2);
                var u = MatVec(l.W3, xb2);
                for (var i = 0; i < g.Length; i++) g[i] = Activation(g[i]) * u[i];
                AddResidual(x[t], MatVec(l.W2, g), l.PostFeedForwardNorm);
            }
        }
        var output = new double[n][];
        for (var t = 0; t < n; t++)
        {
            output[t] = MatVec(_w.Classifier, RmsNorm(x[t], _w.RmsFinalWeight.ToFloatArray()));
            if (_c.FinalLogitSoftcap is { } cap) output[t] = output[t].Select(z => cap * Math.Tanh(z / cap)).ToArray();
        }
        return output;
    }

    private void AddResidual(double[] x, double[] a, Model.Tensors.TensorView? postNorm)
    {
        if (postNorm is not null) a = RmsNorm(a, postNorm.ToFloatArray());
        for (var i = 0; i < x.Length; i++) x[i] += a[i];
    }

    private double Activation(double g)
    {
        if (_c.Activation == FeedForwardActivation.Silu) return g / (1 + Math.Exp(-g));
        // ggml-cpu (GGML_GELU_FP16): 0 below -10, identity above 10, else f16(gelu(f16(x))) with gelu in f32.
        if (g <= -10) return 0;
        if (g >= 10) return g;
        var x = (float)(Half)(float)g;
        var gelu = 0.5f * x * (1.0f + MathF.Tanh(0.79788456080286535587989211986876f * x * MathF.FusedMultiplyAdd(0.044715f * x, x, 1.0f)));
        return (float)(Half)gelu;
    }

    /// <summary>Per-pair frequencies of a layer: base^(-2i/dims) (gemma3's local base on sliding-window layers) divided by the factors; scaled RoPE from the model's table.</summary>
    private (double[] Freqs, double Scale) Frequencies(int layer)
    {
        if (_c.RopeScaling.Type != RopeScalingType.None)
        {
            var table = RopeTable.For(_c, _w, layer);
            return (table.Frequencies.Select(f => (double)f).ToArray(), table.Scale);
        }
        var ropeBase = _c.IsSlidingWindowLayer(layer) && _c.LocalRopeBase is { } local ? local : _c.RopeBase;
        var factors = _w.RopeFrequencyFactors?.ToFloatArray();
        var freqs = new double[_c.RopeDimensionCount / 2];
        for (var i = 0; i < freqs.Length; i++) freqs[i] = Math.Pow(ropeBase, -2.0 * i / _c.RopeDimensionCount) / (factors?[i] ?? 1);
        return (freqs, 1);
    }

    private double[] RmsNorm(double[] x, float[] w)
    {
        var ss = x.Sum(v => v * v) / x.Length + _c.RmsEpsilon;
        return x.Select((v, i) => v / Math.Sqrt(ss) * w[i]).ToArray();
    }

    private double[] HeadNorms(double[] x, Model.Tensors.TensorView? weight, int heads)
    {
        if (weight is null) return x;
        var w = weight.ToFloatArray();
        var hd = _c.HeadDim;
        for (var h = 0; h < heads; h++) RmsNorm(x[(h * hd)..((h + 1) * hd)], w).CopyTo(x, h * hd);
        return x;
    }

    private static double[] Add(double[] x, Model.Tensors.TensorView? bias)
    {
        if (bias is null) return x;
        var b = bias.ToFloatArray();
        for (var i = 0; i < x.Length; i++) x[i] += b[i];
        return x;
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

    private double[] Rope(double[] v, int pos, int heads, double[] freqs, double scale)
    {
        var hd = _c.HeadDim;
        var pairs = freqs.Length;
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < pairs; i++)
            {
                var (sin, cos) = Math.SinCos(pos * freqs[i]);
                (sin, cos) = (sin * scale, cos * scale);
                // NORM rotates (2i, 2i+1); NEOX rotates (i, i + pairs).
                var (ia, ib) = _c.RopeStyle == RopeStyle.Neox ? (h * hd + i, h * hd + i + pairs) : (h * hd + 2 * i, h * hd + 2 * i + 1);
                double a = v[ia], b = v[ib];
                v[ia] = a * cos - b * sin;
                v[ib] = a * sin + b * cos;
            }
        }
        return v;
    }
}
