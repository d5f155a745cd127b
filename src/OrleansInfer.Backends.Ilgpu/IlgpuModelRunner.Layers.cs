using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Ilgpu;

public sealed partial class IlgpuModelRunner
{
    /// <summary>
    /// Steps of up to this many tokens take the GEMV path (weights streamed once per 4 rows); larger ones the tiled
    /// kernel. With FP32 arithmetic the tiled kernel costs about as much at M = 64 as at M = 1, so GEMV passes win
    /// until roughly that point.
    /// </summary>
    private const int GemvMaxTokens = 32;

    private ArrayView<int> Meta(int offset, int length) => _meta.SubView(offset, Math.Max(1, length));

    private void Embed(in StepLayout l)
    {
        var e = _w.TokenEmbedding;
        var count = l.Tokens * _c.EmbeddingLength;
        var tokens = Meta(0, l.Tokens);
        _k.Embed(count, e, tokens, _x, _c.EmbeddingLength, _c.EmbeddingScale);
    }

    /// <summary>One transformer block over all the step's tokens (see the README for the launch sequence).</summary>
    private void Layer(int layer, in StepLayout l)
    {
        var w = _w.Layers[layer];
        var p = _plans[layer];
        int t = l.Tokens, dim = _c.EmbeddingLength;

        // Attention block: Xb = rmsnorm(X); QKV = Xb Wqkv (+ biases); q, k head norms; rope q, k and cache k, v;
        // Xb = attention; X += Xb Wo (through the post-attention norm when the model has one).
        RmsNorm(_x, w.RmsAttWeight, _xb, t, accumulate: false);
        MatMul(w.Wqkv, _xb, t, _qkv, QkvLd, MatMulMode.Store);
        var qkvWidth = p.QueryDim + 2 * p.KvDim;
        if (w.Bqkv is { } bias) _k.BiasAdd(t * qkvWidth, _qkv, bias, qkvWidth, QkvLd);
        if (w.QNorm is not null || w.KNorm is not null) HeadNorm(w, p, t);
        var rope = new RopeArgs
        {
            Heads = p.Heads, KvHeads = p.KvHeads, HeadDim = _c.HeadDim, RopePairs = _c.RopeDimensionCount / 2,
            Neox = _c.RopeStyle == RopeStyle.Neox ? 1 : 0, QkvLd = QkvLd, Dim = p.QueryDim, KvDim = p.KvDim,
            KOffset = p.KOffset, VOffset = p.VOffset,
        };
        _kv!.RopeKvWrite(t * (p.Heads + p.KvHeads) * (_c.HeadDim / 2), _qkv, Meta(l.Positions, t), Meta(l.Slots, t), _ropeCos[p.Rope], _ropeSin[p.Rope], rope);
        Attend(l, p);
        Residual(w.Wo, _xb, t, w.PostAttentionNorm);

        // Feed-forward block: Xb = rmsnorm(X); Hb = act(Xb W1) * (Xb W3); X += Hb W2 (through the post-FFN norm if any).
        RmsNorm(_x, w.RmsFfnWeight, _xb, t, accumulate: false);
        MatMul(w.W13, _xb, t, _hb, p.FeedForward, _c.Activation == FeedForwardActivation.GeluTanh ? MatMulMode.GeGlu : MatMulMode.SwiGlu);
        Residual(w.W2, _hb, t, w.PostFeedForwardNorm);
    }

    /// <summary>X += A W, or X += rmsnorm(A W) * postNorm (gemma's post norms: the product goes through a scratch buffer).</summary>
    private void Residual(DeviceMatrix w, ArrayView<float> a, int t, ArrayView<float>? postNorm)
    {
        if (postNorm is not { } norm)
        {
            MatMul(w, a, t, _x, _c.EmbeddingLength, MatMulMode.Add);
            return;
        }
        MatMul(w, a, t, _post, _c.EmbeddingLength, MatMulMode.Store);
        RmsNorm(_post, norm, _x, t, accumulate: true);
    }

    private void HeadNorm(DeviceWeights.Layer w, in LayerPlan p, int t)
    {
        var args = new HeadNormArgs
        {
            Tokens = t, Heads = p.Heads, KvHeads = p.KvHeads, HeadDim = _c.HeadDim, QkvLd = QkvLd, Eps = _c.RmsEpsilon,
            NormQ = w.QNorm is null ? 0 : 1, NormK = w.KNorm is null ? 0 : 1,
        };
        var rows = t * (p.Heads + p.KvHeads);
        var groups = (rows + HeadNormKernel.WarpsPerGroup - 1) / HeadNormKernel.WarpsPerGroup;
        var q = w.QNorm ?? w.KNorm!.Value;
        _k.HeadNorm(new KernelConfig(Groups(groups), HeadNormKernel.WarpsPerGroup * _accelerator!.WarpSize), _qkv, q, w.KNorm ?? q, args);
    }

    /// <summary>Final norm of the rows that need logits, then the classifier (and the final soft-capping if the model has one).</summary>
    private void Classify(in StepLayout l)
    {
        var args = new RmsNormArgs { Rows = l.LogitRowCount, Size = _c.EmbeddingLength, Eps = _c.RmsEpsilon, Gather = 1 };
        _k.RmsNorm(new KernelConfig(Groups(l.LogitRowCount), RmsNormThreads), _x, _w.RmsFinalWeight, Meta(l.LogitRows, l.LogitRowCount), _xLogits, args);
        MatMul(_w.Classifier, _xLogits, l.LogitRowCount, _logits, _c.VocabSize, MatMulMode.Store);
        if (_c.FinalLogitSoftcap is { } cap) _k.Softcap(l.LogitRowCount * _c.VocabSize, _logits, cap, 1f / cap);
    }

    /// <summary>Y (+)= rmsnorm(X) * weight over <paramref name="rows"/> rows of dim.</summary>
    private void RmsNorm(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, int rows, bool accumulate)
    {
        var args = new RmsNormArgs { Rows = rows, Size = _c.EmbeddingLength, Eps = _c.RmsEpsilon, Accumulate = accumulate ? 1 : 0 };
        _k.RmsNorm(new KernelConfig(Groups(rows), RmsNormThreads), x, weight, _meta, y, args);
    }

    private int RmsNormThreads => Math.Min(RmsNormKernel.Threads, _accelerator!.MaxNumThreadsPerGroup);

    private void Attend(in StepLayout l, in LayerPlan p)
    {
        var (splits, splitLength) = AttentionSplits(l, p.Window);
        var cap = _c.AttentionLogitSoftcap ?? 0f;
        var args = new AttentionArgs
        {
            Tokens = l.Tokens, Heads = p.Heads, GroupSize = p.Heads / p.KvHeads, HeadDim = _c.HeadDim, QkvLd = QkvLd,
            KvDim = p.KvDim, BlockSize = KvCache.BlockSize, TableWidth = l.TableWidth, Splits = splits,
            SplitLength = splitLength, Scale = _c.AttentionScale, Softcap = cap, SoftcapInverse = cap > 0f ? 1f / cap : 0f,
            Window = p.Window, KOffset = p.KOffset, VOffset = p.VOffset,
        };
        var warps = (long)l.Tokens * p.Heads * splits;
        var groups = (int)((warps + PagedAttentionKernel.WarpsPerGroup - 1) / PagedAttentionKernel.WarpsPerGroup);
        var groupSize = PagedAttentionKernel.WarpsPerGroup * _accelerator!.WarpSize;
        var positions = Meta(l.Positions, l.Tokens);
        _kv!.Attention(new KernelConfig(Groups(groups), groupSize), _qkv, positions, Meta(l.TokenSequence, l.Tokens), Meta(l.Tables, l.Sequences * l.TableWidth),
            _xb, _partialAcc, _partialStats, args);
        if (splits == 1) return;
        var reduceGroups = (l.Tokens * p.Heads + AttentionReduceKernel.WarpsPerGroup - 1) / AttentionReduceKernel.WarpsPerGroup;
        _k.AttentionReduce(new KernelConfig(Groups(reduceGroups), AttentionReduceKernel.WarpsPerGroup * _accelerator.WarpSize), positions, _partialAcc, _partialStats, _xb, args);
    }

    /// <summary>
    /// Flash-decoding: when the step has too few (token, head) pairs to fill the device, each context is cut into
    /// splits of at least <see cref="IlgpuRunnerOptions.AttentionSplitLength"/> positions, bounded by the partial buffers.
    /// On a sliding-window layer a token attends to at most <paramref name="window"/> positions, and splits start at the window.
    /// </summary>
    private (int Splits, int SplitLength) AttentionSplits(in StepLayout l, int window)
    {
        var pairs = l.Tokens * _c.HeadCount;
        var warpsToFill = _accelerator!.NumMultiprocessors * 16;
        var minLength = _options.AttentionSplitLength;
        var span = window > 0 ? Math.Min(l.MaxContext, window) : l.MaxContext;
        if (pairs >= warpsToFill || span <= minLength) return (1, RoundUp(span, 32));
        var splits = Math.Min((span + minLength - 1) / minLength, Math.Max(1, PartialItemCapacity / pairs));
        splits = Math.Min(splits, (warpsToFill + pairs - 1) / pairs * 4);
        var length = RoundUp((span + splits - 1) / splits, 32);
        return ((span + length - 1) / length, length);
    }

    /// <summary>
    /// Groups to launch for <paramref name="wanted"/> units of work: all of them on CUDA; on the CPU emulator, where every
    /// group costs thread hand-offs, a couple per multiprocessor that loop over the work (the kernels are grid-stride).
    /// </summary>
    private int Groups(int wanted) => IsCuda ? wanted : Math.Min(wanted, 2 * _accelerator!.NumMultiprocessors);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Y (+)= X Wᵀ for <paramref name="m"/> activation rows of K = W.Cols values: GEMV passes for decode shapes, tiles for prefill.</summary>
    private void MatMul(DeviceMatrix w, ArrayView<float> x, int m, ArrayView<float> y, int ldy, MatMulMode mode)
    {
        if (w.Segments is { } segments)
        {
            // A mixed-format stack (Store/Add only): each part writes its own columns of Y.
            var row = 0;
            foreach (var s in segments)
            {
                MatMul(s, x, m, y.SubView(row), ldy, mode);
                row += s.Rows;
            }
            return;
        }
        var n = mode >= MatMulMode.SwiGlu ? w.Rows / 2 : w.Rows;
        var k = w.Cols;
        if (m <= GemvMaxTokens)
        {
            var config = new KernelConfig(Groups((n + GemvKernel.WarpsPerGroup - 1) / GemvKernel.WarpsPerGroup), GemvKernel.WarpsPerGroup * _accelerator!.WarpSize);
            for (var m0 = 0; m0 < m; m0 += GemvKernel.MaxRows)
            {
                var args = new MatMulArgs { M = Math.Min(GemvKernel.MaxRows, m - m0), N = n, K = k, Ldx = k, Ldy = ldy, Mode = mode };
                var xs = x.SubView((long)m0 * k);
                var ys = y.SubView((long)m0 * ldy);
                _k.Gemv(config, w, xs, ys, args);
            }
            return;
        }
        if (mode >= MatMulMode.SwiGlu)
        {
            Tiled(w, x, m, 2 * n, _h13, 2 * n, MatMulMode.Store);
            _k.SwiGlu(m * n, _h13, y, n, mode);
            return;
        }
        Tiled(w, x, m, n, y, ldy, mode);
    }

    private void Tiled(DeviceMatrix w, ArrayView<float> x, int m, int n, ArrayView<float> y, int ldy, MatMulMode mode)
    {
        var config = new KernelConfig(
            new Index2D((n + TiledMatMulKernel.TileN - 1) / TiledMatMulKernel.TileN, (m + TiledMatMulKernel.TileM - 1) / TiledMatMulKernel.TileM),
            new Index2D(TiledMatMulKernel.Threads, 1));
        var args = new MatMulArgs { M = m, N = n, K = w.Cols, Ldx = w.Cols, Ldy = ldy, Mode = mode };
        _k.Tiled(config, w, x, y, args);
    }
}
