using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Testing;

/// <summary>
/// Drives any model runner by hand: gives sequences blocks, prefills them (in chunks if asked) and decodes greedily,
/// so backends can be checked, and run side by side, on the same steps without the engine.
/// </summary>
public sealed class RunnerDriver(IModelRunner runner)
{
    private readonly BlockManager _blocks = new(runner.KvCache.BlockCount, runner.KvCache.BlockSize, enablePrefixCaching: false);
    private readonly Dictionary<long, SequenceBlocks> _tables = [];
    private readonly ForwardBatch _batch = new();

    public BlockManager Blocks => _blocks;

    public int FreeBlocks => _blocks.FreeBlocks;

    public int Vocab => runner.Config.VocabSize;

    /// <summary>Runs one step of (sequence, start position, tokens, want logits) entries; returns the logits rows.</summary>
    public float[][] Step(params (long Id, int Start, int[] Tokens, bool Logits)[] work)
    {
        _batch.Clear();
        foreach (var (id, start, tokens, _) in work)
        {
            if (!_tables.TryGetValue(id, out var table)) _tables[id] = table = new SequenceBlocks();
            var before = table.Count;
            if (!_blocks.TryAllocate(table, start + tokens.Length)) throw new InvalidOperationException("test KV pool exhausted");
            if (table.Count > before) _batch.UpdateBlocks(id, before, table.Ids.ToArray()[before..]);
        }
        foreach (var (id, start, tokens, logits) in work) _batch.AddSequence(id, start, tokens, logits);
        var output = new float[_batch.LogitsRows * Vocab];
        runner.Execute(_batch, output);
        return Enumerable.Range(0, _batch.LogitsRows).Select(r => output.AsSpan(r * Vocab, Vocab).ToArray()).ToArray();
    }

    /// <summary>Prefills <paramref name="prompt"/> in chunks of <paramref name="chunk"/> tokens; returns the last logits.</summary>
    public float[] Prefill(long id, int[] prompt, int chunk = int.MaxValue)
    {
        float[]? last = null;
        for (var start = 0; start < prompt.Length; start += chunk)
        {
            var n = Math.Min(chunk, prompt.Length - start);
            var rows = Step((id, start, prompt[start..(start + n)], start + n == prompt.Length));
            if (rows.Length > 0) last = rows[0];
        }
        return last!;
    }

    /// <summary>Greedy tokens after <paramref name="prompt"/>, with the logits of each step.</summary>
    public (int[] Tokens, List<float[]> Logits) Greedy(long id, int[] prompt, int count, int chunk = int.MaxValue)
    {
        var logits = new List<float[]> { Prefill(id, prompt, chunk) };
        var tokens = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var next = Sampler.Greedy(logits[^1]);
            tokens.Add(next);
            if (i + 1 < count) logits.Add(Step((id, prompt.Length + i, [next], true))[0]);
        }
        return ([.. tokens], logits);
    }

    public void Release(long id)
    {
        if (!_tables.Remove(id, out var table)) return;
        _blocks.Free(table);
        _batch.Clear();
        _batch.Release(id);
        runner.Execute(_batch, Span<float>.Empty);
    }
}
