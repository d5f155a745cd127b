using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu.Kernels;

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
        _k.Embed(count, e, tokens, _x, _c.EmbeddingLength);
    }

    /// <summary>One transformer block over all the step's tokens (see the README for the launch sequence).</summary>
    private void Layer(int layer, in StepLayout l)
    {
        var w = _w.Layers[layer];
        int t = l.Tokens, dim = _c.EmbeddingLength;
        var kOffset = 2L * layer * _kvHalfStride;

        // Attention block: Xb = rmsnorm(X); QKV = Xb Wqkv; rope q, k and cache k, v; Xb = attention; X += Xb Wo.
        RmsNorm(_x, w.RmsAttWeight, default, _xb, t, gather: false);
        MatMul(w.Wqkv, _xb, t, _qkv, QkvLd, MatMulMode.Store);
        var rope = new RopeArgs
        {
            Heads = _c.HeadCount, KvHeads = _c.KvHeadCount, HeadDim = _c.HeadDim, RopePairs = _c.RopeDimensionCount / 2,
            QkvLd = QkvLd, Dim = dim, KvDim = _c.KvDim, KOffset = kOffset, VOffset = kOffset + _kvHalfStride,
        };
        _kv!.RopeKvWrite(t * (_c.HeadCount + _c.KvHeadCount) * (_c.HeadDim / 2), _qkv, Meta(l.Positions, t), Meta(l.Slots, t), _ropeCos, _ropeSin, rope);
        Attend(l, kOffset);
        MatMul(w.Wo, _xb, t, _x, dim, MatMulMode.Add);

        // Feed-forward block: Xb = rmsnorm(X); Hb = silu(Xb W1) * (Xb W3); X += Hb W2.
        RmsNorm(_x, w.RmsFfnWeight, default, _xb, t, gather: false);
        MatMul(w.W13, _xb, t, _hb, _c.FeedForwardLength, MatMulMode.SwiGlu);
        MatMul(w.W2, _hb, t, _x, dim, MatMulMode.Add);
    }

    /// <summary>Final norm of the rows that need logits, then the classifier.</summary>
    private void Classify(in StepLayout l)
    {
        RmsNorm(_x, _w.RmsFinalWeight, Meta(l.LogitRows, l.LogitRowCount), _xLogits, l.LogitRowCount, gather: true);
        MatMul(_w.Classifier, _xLogits, l.LogitRowCount, _logits, _c.VocabSize, MatMulMode.Store);
    }

    private void RmsNorm(ArrayView<float> x, ArrayView<float> weight, ArrayView<int> rowMap, ArrayView<float> y, int rows, bool gather)
    {
        var args = new RmsNormArgs { Rows = rows, Size = _c.EmbeddingLength, Eps = _c.RmsEpsilon, Gather = gather ? 1 : 0 };
        _k.RmsNorm(new KernelConfig(Groups(rows), Math.Min(RmsNormKernel.Threads, _accelerator!.MaxNumThreadsPerGroup)), x, weight, gather ? rowMap : _meta, y, args);
    }

    private void Attend(in StepLayout l, long kOffset)
    {
        var (splits, splitLength) = AttentionSplits(l);
        var args = new AttentionArgs
        {
            Tokens = l.Tokens, Heads = _c.HeadCount, GroupSize = _c.GroupSize, HeadDim = _c.HeadDim, QkvLd = QkvLd,
            KvDim = _c.KvDim, BlockSize = KvCache.BlockSize, TableWidth = l.TableWidth, Splits = splits,
            SplitLength = splitLength, Scale = 1f / MathF.Sqrt(_c.HeadDim), KOffset = kOffset, VOffset = kOffset + _kvHalfStride,
        };
        var warps = (long)l.Tokens * _c.HeadCount * splits;
        var groups = (int)((warps + PagedAttentionKernel.WarpsPerGroup - 1) / PagedAttentionKernel.WarpsPerGroup);
        var groupSize = PagedAttentionKernel.WarpsPerGroup * _accelerator!.WarpSize;
        var positions = Meta(l.Positions, l.Tokens);
        _kv!.Attention(new KernelConfig(Groups(groups), groupSize), _qkv, positions, Meta(l.TokenSequence, l.Tokens), Meta(l.Tables, l.Sequences * l.TableWidth),
            _xb, _partialAcc, _partialStats, args);
        if (splits == 1) return;
        var reduceGroups = (l.Tokens * _c.HeadCount + AttentionReduceKernel.WarpsPerGroup - 1) / AttentionReduceKernel.WarpsPerGroup;
        _k.AttentionReduce(new KernelConfig(Groups(reduceGroups), AttentionReduceKernel.WarpsPerGroup * _accelerator.WarpSize), positions, _partialAcc, _partialStats, _xb, args);
    }

    /// <summary>
    /// Flash-decoding: when the step has too few (token, head) pairs to fill the device, each context is cut into
    /// splits of at least <see cref="IlgpuRunnerOptions.AttentionSplitLength"/> positions, bounded by the partial buffers.
    /// </summary>
    private (int Splits, int SplitLength) AttentionSplits(in StepLayout l)
    {
        var pairs = l.Tokens * _c.HeadCount;
        var warpsToFill = _accelerator!.NumMultiprocessors * 16;
        var minLength = _options.AttentionSplitLength;
        if (pairs >= warpsToFill || l.MaxContext <= minLength) return (1, RoundUp(l.MaxContext, 32));
        var splits = Math.Min((l.MaxContext + minLength - 1) / minLength, Math.Max(1, PartialItemCapacity / pairs));
        splits = Math.Min(splits, (warpsToFill + pairs - 1) / pairs * 4);
        var length = RoundUp((l.MaxContext + splits - 1) / splits, 32);
        return ((l.MaxContext + length - 1) / length, length);
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
        var n = mode == MatMulMode.SwiGlu ? w.Rows / 2 : w.Rows;
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
        if (mode == MatMulMode.SwiGlu)
        {
            Tiled(w, x, m, 2 * n, _h13, 2 * n, MatMulMode.Store);
            _k.SwiGlu(m * n, _h13, y, n);
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
