namespace OrleansInfer.Backends.Cpu;

public sealed unsafe partial class CpuModelRunner
{
    /// <summary>
    /// One transformer block in llama.cpp's order. Attention: xb = rmsnorm(x); q, k, v = xb Wq (+bq), xb Wk (+bk),
    /// xb Wv (+bv); per-head q/k norms; RoPE; k, v into the cache; attend; a = att Wo; x += a, or x += rmsnorm(a) when
    /// the layer has a post-attention norm (gemma). Feed-forward: xb = rmsnorm(x); f = act(xb W1) * (xb W3) W2 (SiLU or
    /// ggml's GELU); x += f, or x += rmsnorm(f) with a post-feed-forward norm. Widths are the layer's own (deci).
    /// </summary>
    private void Layer(int layer, int tokens)
    {
        var lw = _w.Layers[layer];
        var plan = _plan[layer];
        int dim = _c.EmbeddingLength, queryDim = plan.QueryDim, kvDim = plan.KvDim, hidden = plan.FeedForward;

        _rows.RmsNorm(_xb.Pointer, _x.Pointer, lw.RmsAttWeight, dim, tokens);
        _matmul.Set(_xb.Pointer, tokens, dim);
        _matmul.Add(lw.Wq, _q.Pointer, queryDim, accumulate: false);
        _matmul.Add(lw.Wk, _k.Pointer, kvDim, accumulate: false);
        _matmul.Add(lw.Wv, _v.Pointer, kvDim, accumulate: false);
        _matmul.Run(_pool);

        _qkv.Run(_pool, tokens, layer);
        _attention.Run(_pool, tokens, layer);

        // The attention output is (T, q_dim) in xb; Wo adds straight into the residual unless a post norm comes first.
        _matmul.Set(_xb.Pointer, tokens, queryDim);
        Residual(lw.Wo, lw.PostAttentionNorm, tokens);

        _rows.RmsNorm(_xb.Pointer, _x.Pointer, lw.RmsFfnWeight, dim, tokens);
        _matmul.Set(_xb.Pointer, tokens, dim);
        _matmul.Add(lw.W1, _hb.Pointer, hidden, accumulate: false);
        _matmul.Add(lw.W3, _hb2.Pointer, hidden, accumulate: false);
        _matmul.Run(_pool);
        _rows.Gate(tokens, hidden);
        _matmul.Set(_hb.Pointer, tokens, hidden);
        Residual(lw.W2, lw.PostFeedForwardNorm, tokens);
    }

    /// <summary>x += input W (the product set up in the matmul job), or x += rmsnorm(input W) * postNorm.</summary>
    private void Residual(in Kernels.Quantized.WeightMatrix w, float* postNorm, int tokens)
    {
        var dim = _c.EmbeddingLength;
        if (postNorm == null)
        {
            _matmul.Add(w, _x.Pointer, dim, accumulate: true);
            _matmul.Run(_pool);
            return;
        }
        _matmul.Add(w, _xb2.Pointer, dim, accumulate: false);
        _matmul.Run(_pool);
        _rows.RmsNormAdd(_x.Pointer, _xb2.Pointer, postNorm, dim, tokens);
    }
}
