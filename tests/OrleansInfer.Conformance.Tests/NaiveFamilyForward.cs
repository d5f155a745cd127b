using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// The brief's per-layer forward pass written plainly in f32 over a whole prompt (no cache, no batching), reading the
/// config exactly as the Model project reports it: a check that our reading of each family's keys and RopeTable give
/// llama.cpp's numbers, independent of the backends.
/// </summary>
internal sealed class NaiveFamilyForward(LlamaConfig c, LlamaWeights w, int contextLength)
{
    private static float[] Read(TensorView t) => t.ToFloatArray();

    private static float[] MatVec(float[] m, int rows, int cols, float[] x, float[]? bias = null)
    {
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var i = 0; i < cols; i++) s += m[r * cols + i] * x[i];
            y[r] = (float)s + (bias?[r] ?? 0f);
        }
        return y;
    }

    private float[] RmsNorm(ReadOnlySpan<float> x, float[] weight)
    {
        double ss = 0;
        foreach (var v in x) ss += v * v;
        var scale = 1f / MathF.Sqrt((float)(ss / x.Length) + c.RmsEpsilon);
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
        return y;
    }

    private void Rope(Span<float> head, int pos, RopeTable table)
    {
        var half = c.RopeDimensionCount / 2;
        for (var i = 0; i < half; i++)
        {
            var angle = pos * table.Frequencies[i];
            var (cos, sin) = (MathF.Cos(angle) * table.Scale, MathF.Sin(angle) * table.Scale);
            var (a, b) = c.RopeStyle == RopeStyle.Normal ? (2 * i, 2 * i + 1) : (i, i + half);
            var (x0, x1) = (head[a], head[b]);
            head[a] = x0 * cos - x1 * sin;
            head[b] = x0 * sin + x1 * cos;
        }
    }

    private static float GeluTanh(float x) => 0.5f * x * (1f + MathF.Tanh(0.7978845608f * (x + 0.044715f * x * x * x)));

    // ggml's CPU gelu (GGML_GELU_FP16): the input rounded to f16, looked up in a table of f16 results; identity past 10.
    private static float Gelu(float x) => x <= -10f ? 0f : x >= 10f ? x : (float)(Half)GeluTanh((float)(Half)x);

    private static float Silu(float x) => x / (1f + MathF.Exp(-x));

    /// <summary>Logits of the last <paramref name="positions"/> positions (all when null), position-major.</summary>
    public float[] Logits(int[] tokens, int? positions = null)
    {
        int n = tokens.Length, d = c.EmbeddingLength, hd = c.HeadDim, vocab = c.VocabSize;
        var embedding = Read(w.TokenEmbedding);
        var x = new float[n][];
        for (var t = 0; t < n; t++) x[t] = embedding.AsSpan(tokens[t] * d, d).ToArray().Select(v => v * c.EmbeddingScale).ToArray();

        for (var l = 0; l < c.BlockCount; l++)
        {
            var L = w.Layers[l];
            int heads = c.HeadCountOf(l), kvHeads = c.KvHeadCountOf(l), hidden = c.FeedForwardLengthOf(l);
            var table = RopeTable.For(c, w, l, contextLength);
            var (wq, wk, wv, wo) = (Read(L.Wq), Read(L.Wk), Read(L.Wv), Read(L.Wo));
            var (bq, bk, bv) = (L.Bq is null ? null : Read(L.Bq), L.Bk is null ? null : Read(L.Bk), L.Bv is null ? null : Read(L.Bv));
            var (qNorm, kNorm) = (L.QNorm is null ? null : Read(L.QNorm), L.KNorm is null ? null : Read(L.KNorm));
            var attnNorm = Read(L.RmsAttWeight);
            var q = new float[n][];
            var k = new float[n][];
            var v = new float[n][];
            for (var t = 0; t < n; t++)
            {
                var h = RmsNorm(x[t], attnNorm);
                q[t] = MatVec(wq, heads * hd, d, h, bq);
                k[t] = MatVec(wk, kvHeads * hd, d, h, bk);
                v[t] = MatVec(wv, kvHeads * hd, d, h, bv);
                for (var head = 0; head < heads; head++)
                {
                    var span = q[t].AsSpan(head * hd, hd);
                    if (qNorm is not null) RmsNorm(span, qNorm).CopyTo(span);
                    Rope(span, t, table);
                }
                for (var head = 0; head < kvHeads; head++)
                {
                    var span = k[t].AsSpan(head * hd, hd);
                    if (kNorm is not null) RmsNorm(span, kNorm).CopyTo(span);
                    Rope(span, t, table);
                }
            }

            var postAttn = L.PostAttentionNorm is null ? null : Read(L.PostAttentionNorm);
            var ffnNorm = Read(L.RmsFfnWeight);
            var (w1, w2, w3) = (Read(L.W1), Read(L.W2), Read(L.W3));
            var postFfn = L.PostFeedForwardNorm is null ? null : Read(L.PostFeedForwardNorm);
            var next = new float[n][];
            for (var t = 0; t < n; t++)
            {
                var o = new float[heads * hd];
                for (var head = 0; head < heads; head++)
                {
                    var kvh = head / (heads / kvHeads);
                    var scores = new double[t + 1];
                    for (var j = 0; j <= t; j++)
                    {
                        if (c.IsSlidingWindowLayer(l) && t - j >= c.SlidingWindow) { scores[j] = double.NegativeInfinity; continue; }
                        double s = 0;
                        for (var i = 0; i < hd; i++) s += q[t][head * hd + i] * k[j][kvh * hd + i];
                        var score = (float)s * c.AttentionScale;
                        if (c.AttentionLogitSoftcap is { } cap) score = cap * MathF.Tanh(score / cap);
                        scores[j] = score;
                    }
                    var max = scores.Max();
                    var sum = scores.Sum(s => Math.Exp(s - max));
                    for (var j = 0; j <= t; j++)
                    {
                        var p = Math.Exp(scores[j] - max) / sum;
                        for (var i = 0; i < hd; i++) o[head * hd + i] += (float)(p * v[j][kvh * hd + i]);
                    }
                }
                var a = MatVec(wo, d, heads * hd, o);
                if (postAttn is not null) a = RmsNorm(a, postAttn);
                var mid = x[t].Zip(a, (p, r) => p + r).ToArray();
                var h = RmsNorm(mid, ffnNorm);
                var gate = MatVec(w1, hidden, d, h);
                var up = MatVec(w3, hidden, d, h);
                var act = gate.Select((g, i) => (c.Activation == FeedForwardActivation.GeluTanh ? Gelu(g) : Silu(g)) * up[i]).ToArray();
                var f = MatVec(w2, d, hidden, act);
                if (postFfn is not null) f = RmsNorm(f, postFfn);
                next[t] = mid.Zip(f, (p, r) => p + r).ToArray();
            }
            x = next;
        }

        var outNorm = Read(w.RmsFinalWeight);
        var classifier = Read(w.Classifier);
        var first = n - (positions ?? n);
        var logits = new float[(n - first) * vocab];
        for (var t = first; t < n; t++)
        {
            var row = MatVec(classifier, vocab, d, RmsNorm(x[t], outNorm));
            if (c.FinalLogitSoftcap is { } cap) for (var i = 0; i < vocab; i++) row[i] = cap * MathF.Tanh(row[i] / cap);
            row.CopyTo(logits, (t - first) * vocab);
        }
        return logits;
    }
}
