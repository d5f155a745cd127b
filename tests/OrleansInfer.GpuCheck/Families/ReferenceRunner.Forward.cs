using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Model;

namespace OrleansInfer.GpuCheck.Families;

public sealed partial class ReferenceRunner
{
    /// <summary>The contract's forward pass for one token at <paramref name="pos"/>: writes its K/V, returns its logits.</summary>
    private float[] Token(int token, int pos, List<int> table)
    {
        var c = Config;
        int dim = c.EmbeddingLength, hd = c.HeadDim, bs = KvCache.BlockSize;
        var x = new float[dim];
        for (var i = 0; i < dim; i++) x[i] = _embedding[(long)token * dim + i] * c.EmbeddingScale;
        var slot = table[pos / bs] * bs + pos % bs;
        for (var l = 0; l < c.BlockCount; l++)
        {
            var w = _layers[l];
            int heads = c.HeadCountOf(l), kvHeads = c.KvHeadCountOf(l), kvDim = kvHeads * hd;
            var h = RmsNorm(x, w.AttNorm);
            var q = MatVec(w.Wq, h, heads * hd, w.Bq);
            var k = MatVec(w.Wk, h, kvDim, w.Bk);
            var v = MatVec(w.Wv, h, kvDim, w.Bv);
            for (var head = 0; head < heads; head++) HeadStep(q, head * hd, w.QNorm, l, pos);
            for (var head = 0; head < kvHeads; head++) HeadStep(k, head * hd, w.KNorm, l, pos);
            Store(_k[l], (long)slot * kvDim, k);
            Store(_v[l], (long)slot * kvDim, v);

            var lo = c.IsSlidingWindowLayer(l) ? Math.Max(0, pos + 1 - c.SlidingWindow!.Value) : 0;
            var o = new float[heads * hd];
            for (var head = 0; head < heads; head++)
            {
                var kv = head / (heads / kvHeads) * hd;
                var scores = new double[pos + 1 - lo];
                for (var p = lo; p <= pos; p++)
                {
                    var at = (long)(table[p / bs] * bs + p % bs) * kvDim + kv;
                    double dot = 0;
                    for (var d = 0; d < hd; d++) dot += (double)q[head * hd + d] * _k[l][at + d];
                    var s = dot * c.AttentionScale;
                    if (c.AttentionLogitSoftcap is { } cap) s = cap * Math.Tanh(s / cap);
                    scores[p - lo] = s;
                }
                var max = scores.Max();
                var sum = scores.Sum(s => Math.Exp(s - max));
                for (var p = lo; p <= pos; p++)
                {
                    var at = (long)(table[p / bs] * bs + p % bs) * kvDim + kv;
                    var weight = Math.Exp(scores[p - lo] - max) / sum;
                    for (var d = 0; d < hd; d++) o[head * hd + d] += (float)(weight * _v[l][at + d]);
                }
            }
            var a = MatVec(w.Wo, o, dim, null);
            if (w.PostAttentionNorm is { } pa) a = RmsNorm(a, pa);
            for (var i = 0; i < dim; i++) x[i] += a[i];

            h = RmsNorm(x, w.FfnNorm);
            var ffn = c.FeedForwardLengthOf(l);
            var gate = MatVec(w.W1, h, ffn, null);
            var up = MatVec(w.W3, h, ffn, null);
            for (var i = 0; i < ffn; i++)
                gate[i] = (float)((c.Activation == FeedForwardActivation.GeluTanh ? GgmlGelu.Of(gate[i]) : gate[i] / (1 + Math.Exp(-gate[i]))) * up[i]);
            var f = MatVec(w.W2, gate, dim, null);
            if (w.PostFeedForwardNorm is { } pf) f = RmsNorm(f, pf);
            for (var i = 0; i < dim; i++) x[i] += f[i];
        }
        var logits = MatVec(_classifier, RmsNorm(x, _finalNorm), c.VocabSize, null);
        if (c.FinalLogitSoftcap is { } final)
            for (var i = 0; i < logits.Length; i++) logits[i] = (float)(final * Math.Tanh(logits[i] / final));
        return logits;
    }

    /// <summary>A head's optional RMSNorm, then RoPE (adjacent pairs or NEOX halves over the first rope dims) with the layer's table.</summary>
    private void HeadStep(float[] x, int at, float[]? norm, int layer, int pos)
    {
        var hd = Config.HeadDim;
        if (norm is not null) RmsNorm(x.AsSpan(at, hd), norm).CopyTo(x, at);
        var table = _rope[layer];
        var pairs = table.Frequencies.Length;
        for (var i = 0; i < pairs; i++)
        {
            var (s, c) = MathF.SinCos(pos * table.Frequencies[i]);
            (s, c) = (s * table.Scale, c * table.Scale);
            var (e0, e1) = Config.RopeStyle == RopeStyle.Neox ? (at + i, at + i + pairs) : (at + 2 * i, at + 2 * i + 1);
            float x0 = x[e0], x1 = x[e1];
            x[e0] = x0 * c - x1 * s;
            x[e1] = x0 * s + x1 * c;
        }
    }

    private float[] RmsNorm(ReadOnlySpan<float> x, float[] weight)
    {
        double ss = 0;
        foreach (var v in x) ss += (double)v * v;
        var scale = 1 / Math.Sqrt(ss / x.Length + Config.RmsEpsilon);
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++) y[i] = (float)(x[i] * scale * weight[i]);
        return y;
    }

    /// <summary>y = W x (+ b) for W of <paramref name="rows"/> rows of x.Length values.</summary>
    private static float[] MatVec(float[] w, float[] x, int rows, float[]? bias)
    {
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var i = 0; i < x.Length; i++) s += (double)w[(long)r * x.Length + i] * x[i];
            y[r] = (float)(s + (bias?[r] ?? 0));
        }
        return y;
    }
}
