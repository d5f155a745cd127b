using OrleansInfer.Engine.Runner;

namespace OrleansInfer.GpuCheck;

/// <summary>Hands out KV blocks from a free list and runs steps of (sequence, start, tokens, logits?) entries on a runner.</summary>
internal sealed class StepDriver(IModelRunner runner)
{
    private readonly Stack<int> _free = new(Enumerable.Range(0, runner.KvCache.BlockCount).Reverse());
    private readonly Dictionary<long, List<int>> _tables = [];
    private readonly ForwardBatch _batch = new();
    private float[] _logits = [];

    public float[][] Step(params (long Id, int Start, int[] Tokens, bool Logits)[] work)
    {
        var rows = Run(work);
        var vocab = runner.Config.VocabSize;
        return Enumerable.Range(0, rows).Select(r => _logits.AsSpan(r * vocab, vocab).ToArray()).ToArray();
    }

    /// <summary>Runs the step and leaves the logits in an internal buffer (no per-step copies: for timing); returns the row count.</summary>
    public int Run(IReadOnlyList<(long Id, int Start, int[] Tokens, bool Logits)> work)
    {
        _batch.Clear();
        var bs = runner.KvCache.BlockSize;
        foreach (var (id, start, tokens, _) in work)
        {
            if (!_tables.TryGetValue(id, out var table)) _tables[id] = table = [];
            var before = table.Count;
            while (table.Count * bs < start + tokens.Length) table.Add(_free.Count > 0 ? _free.Pop() : throw new InvalidOperationException("KV pool exhausted"));
            if (table.Count > before) _batch.UpdateBlocks(id, before, table.ToArray()[before..]);
        }
        foreach (var (id, start, tokens, logits) in work) _batch.AddSequence(id, start, tokens, logits);
        var need = _batch.LogitsRows * runner.Config.VocabSize;
        if (_logits.Length < need) _logits = new float[need];
        runner.Execute(_batch, _logits);
        return _batch.LogitsRows;
    }

    public void ReleaseAll()
    {
        _batch.Clear();
        foreach (var (id, table) in _tables)
        {
            foreach (var b in table) _free.Push(b);
            _batch.Release(id);
        }
        _tables.Clear();
        runner.Execute(_batch, Span<float>.Empty);
    }
}
