namespace OrleansInfer.Engine.Runner;

/// <summary>
/// The runner-side copy of every live sequence's block table, kept between steps and changed only by the
/// diffs a <see cref="ForwardBatch"/> carries. Shared by the backends.
/// </summary>
public sealed class BlockTables
{
    private readonly Dictionary<long, List<int>> _tables = [];
    private readonly Stack<List<int>> _pool = new();

    public int Count => _tables.Count;

    /// <summary>Applies releases, then block-table updates; validates block ids against the pool size.</summary>
    public void Apply(ForwardBatch batch, int blockCount)
    {
        foreach (var id in batch.Released)
        {
            if (_tables.Remove(id, out var table))
            {
                table.Clear();
                _pool.Push(table);
            }
        }

        foreach (ref readonly var update in batch.BlockUpdates)
        {
            if (!_tables.TryGetValue(update.SequenceId, out var table))
            {
                table = _pool.Count > 0 ? _pool.Pop() : [];
                _tables[update.SequenceId] = table;
            }
            if (update.FirstIndex < 0 || update.FirstIndex > table.Count)
                throw new InvalidOperationException($"sequence {update.SequenceId}: block update at index {update.FirstIndex} leaves a gap (table has {table.Count})");
            var ids = batch.BlockIdsOf(update);
            for (var i = 0; i < ids.Length; i++)
            {
                var block = ids[i];
                if ((uint)block >= (uint)blockCount) throw new InvalidOperationException($"sequence {update.SequenceId}: block id {block} outside the pool of {blockCount}");
                var at = update.FirstIndex + i;
                if (at < table.Count) table[at] = block;
                else table.Add(block);
            }
        }
    }

    /// <summary>The sequence's table; throws when a scheduled sequence has none or too few blocks for its tokens.</summary>
    public List<int> For(in SequenceStep step, int blockSize)
    {
        if (!_tables.TryGetValue(step.SequenceId, out var table))
            throw new InvalidOperationException($"sequence {step.SequenceId} was scheduled without a block table");
        if ((long)table.Count * blockSize < step.EndPosition)
            throw new InvalidOperationException($"sequence {step.SequenceId} needs {step.EndPosition} KV slots but holds {table.Count} blocks of {blockSize}");
        return table;
    }
}
