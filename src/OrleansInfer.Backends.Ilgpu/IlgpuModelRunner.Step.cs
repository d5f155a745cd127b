using System.Runtime.CompilerServices;
using ILGPU.Runtime;
using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Backends.Ilgpu;

public sealed unsafe partial class IlgpuModelRunner
{
    /// <summary>Block copies uploaded and launched together.</summary>
    private const int CopiesPerLaunch = 256;

    // Host staging of the step's metadata, packed as [tokens T][positions T][slots T][token's sequence T]
    // [logit rows L][block tables S × W] (W = the most blocks a scheduled sequence needs) and uploaded in one copy.
    private readonly int[] _meta0;
    private readonly Action _step;

    // The step in flight, handed from the engine thread to the accelerator thread.
    private ForwardBatch? _batch;
    private float* _logitsOut;
    private StepLayout _layout;

    private int MetaCapacity => CopiesAt + 2 * CopiesPerLaunch;

    /// <summary>Block-copy pairs are staged after the largest possible step layout, so they never overwrite it.</summary>
    private int CopiesAt => 4 * MaxBatchTokens + MaxBatchSequences + MaxBatchSequences * TableWidth;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _tables.Apply(batch, KvCache.BlockCount);
        foreach (var copy in batch.BlockCopies)
        {
            if ((uint)copy.Source >= (uint)KvCache.BlockCount || (uint)copy.Destination >= (uint)KvCache.BlockCount)
                throw new ArgumentException($"block copy {copy.Source} -> {copy.Destination} outside the pool of {KvCache.BlockCount}");
        }
        var tokens = batch.TokenCount;
        if (tokens > MaxBatchTokens) throw new ArgumentException($"batch has {tokens} tokens, the runner takes at most {MaxBatchTokens}", nameof(batch));
        if (batch.SequenceCount > MaxBatchSequences) throw new ArgumentException($"batch has {batch.SequenceCount} sequences, the runner takes at most {MaxBatchSequences}", nameof(batch));
        var vocab = _c.VocabSize;
        if (logits.Length < batch.LogitsRows * vocab) throw new ArgumentException($"logits span holds {logits.Length} floats, {batch.LogitsRows} rows of {vocab} needed", nameof(logits));
        _layout = tokens == 0 ? default : PackStep(batch);
        if (tokens == 0 && batch.BlockCopies.IsEmpty) return;

        fixed (float* output = logits)
        {
            _batch = batch;
            _logitsOut = output;
            try
            {
                _thread.Invoke(_step);
            }
            finally
            {
                _batch = null;
                _logitsOut = null;
            }
        }
    }

    /// <summary>Validates the scheduled sequences and fills the host staging array (engine thread, no device calls).</summary>
    private StepLayout PackStep(ForwardBatch batch)
    {
        var bs = KvCache.BlockSize;
        var seqs = batch.Sequences;
        int t = batch.TokenCount, width = 1, maxContext = 0;
        foreach (ref readonly var step in seqs)
        {
            if (step.StartPosition < 0 || step.EndPosition > _c.ContextLength)
                throw new ArgumentException($"sequence {step.SequenceId} spans positions {step.StartPosition}..{step.EndPosition - 1}, outside the model's context of {_c.ContextLength}", nameof(batch));
            _tables.For(step, bs);
            width = Math.Max(width, (step.EndPosition + bs - 1) / bs);
            maxContext = Math.Max(maxContext, step.EndPosition);
        }

        var layout = new StepLayout(t, seqs.Length, batch.LogitsRows, width, maxContext);
        var meta = _meta0.AsSpan();
        var tokens = batch.Tokens;
        for (var i = 0; i < t; i++)
        {
            var id = tokens[i];
            if ((uint)id >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), id, $"token id {id} is outside the vocabulary of {_c.VocabSize}");
            meta[i] = id;
        }
        var logitRows = 0;
        for (var s = 0; s < seqs.Length; s++)
        {
            ref readonly var step = ref seqs[s];
            var table = _tables.For(step, bs);
            for (var j = 0; j < step.TokenCount; j++)
            {
                var at = step.TokenOffset + j;
                var pos = step.StartPosition + j;
                meta[layout.Positions + at] = pos;
                meta[layout.Slots + at] = table[pos / bs] * bs + pos % bs;
                meta[layout.TokenSequence + at] = s;
            }
            if (step.ComputeLogits) meta[layout.LogitRows + logitRows++] = step.TokenOffset + step.TokenCount - 1;
            var row = layout.Tables + s * width;
            var blocks = (step.EndPosition + bs - 1) / bs;
            for (var b = 0; b < blocks; b++) meta[row + b] = table[b];
        }
        return layout;
    }

    /// <summary>The step on the accelerator thread: block copies, one metadata upload, the layers, the logits back.</summary>
    private void RunStep()
    {
        var batch = _batch!;
        CopyBlocks(batch.BlockCopies);
        var l = _layout;
        if (l.Tokens == 0)
        {
            _accelerator!.Synchronize();
            return;
        }

        _meta.SubView(0, l.Length).CopyFromCPU(ref _meta0[0], l.Length);
        Embed(l);
        for (var layer = 0; layer < _c.BlockCount; layer++) Layer(layer, l);
        if (l.LogitRowCount > 0)
        {
            Classify(l);
            var count = (long)l.LogitRowCount * _c.VocabSize;
            _logits.SubView(0, count).CopyToCPU(ref Unsafe.AsRef<float>(_logitsOut), count);
        }
        _accelerator!.Synchronize();
    }

    private void CopyBlocks(ReadOnlySpan<BlockCopy> copies)
    {
        for (var first = 0; first < copies.Length; first += CopiesPerLaunch)
        {
            var n = Math.Min(CopiesPerLaunch, copies.Length - first);
            for (var i = 0; i < n; i++)
            {
                _meta0[CopiesAt + 2 * i] = copies[first + i].Source;
                _meta0[CopiesAt + 2 * i + 1] = copies[first + i].Destination;
            }
            var pairs = _meta.SubView(CopiesAt, 2 * n);
            pairs.CopyFromCPU(ref _meta0[CopiesAt], 2 * n);
            // One launch per run of consecutive layers with the same kv_dim: all of them unless KV head counts vary per layer.
            for (var run = 0; run < _plans.Length;)
            {
                var end = run + 1;
                while (end < _plans.Length && _plans[end].KvDim == _plans[run].KvDim) end++;
                var blockFloats = KvCache.BlockSize * _plans[run].KvDim;
                var halves = 2 * (end - run);
                _kv!.BlockCopy(n * halves * blockFloats, pairs, blockFloats, _plans[run].HalfStride, halves, _plans[run].KOffset);
                run = end;
            }
        }
    }

    /// <summary>Offsets into the packed metadata of one step.</summary>
    private readonly record struct StepLayout(int Tokens, int Sequences, int LogitRowCount, int TableWidth, int MaxContext)
    {
        public int Positions => Tokens;
        public int Slots => 2 * Tokens;
        public int TokenSequence => 3 * Tokens;
        public int LogitRows => 4 * Tokens;
        public int Tables => 4 * Tokens + LogitRowCount;
        public int Length => Tables + Sequences * TableWidth;
    }
}
