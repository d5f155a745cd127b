namespace OrleansInfer.Engine.KvCache;

/// <summary>
/// Hands out KV blocks from a fixed pool with a free list and reference counts (a block shared by forked
/// sequences is freed when its last holder lets go). Blocks are taken as a sequence grows, never reserved
/// for its worst case. Running out is a return value the caller acts on, not an exception.
/// </summary>
public sealed class BlockManager
{
    private readonly int[] _refCounts;
    private readonly Stack<int> _free;

    public BlockManager(int blockCount, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockCount = blockCount;
        BlockSize = blockSize;
        _refCounts = new int[blockCount];
        _free = new Stack<int>(Enumerable.Range(0, blockCount).Reverse());
    }

    public int BlockCount { get; }

    public int BlockSize { get; }

    public int FreeBlocks => _free.Count;

    public int UsedBlocks => BlockCount - _free.Count;

    /// <summary>Blocks needed to hold <paramref name="tokens"/> tokens.</summary>
    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    public bool CanAllocate(int blocks) => blocks <= _free.Count;

    /// <summary>Grows <paramref name="table"/> to hold <paramref name="tokens"/> tokens; false (and no change) when the pool is short.</summary>
    public bool TryEnsureCapacity(List<int> table, int tokens)
    {
        var needed = BlocksFor(tokens) - table.Count;
        if (needed <= 0) return true;
        if (!CanAllocate(needed)) return false;
        for (var i = 0; i < needed; i++) table.Add(Take());
        return true;
    }

    /// <summary>Releases every block of <paramref name="table"/> and clears it.</summary>
    public void Free(List<int> table)
    {
        foreach (var block in table) Release(block);
        table.Clear();
    }

    private int Take()
    {
        var block = _free.Pop();
        _refCounts[block] = 1;
        return block;
    }

    private void Release(int block)
    {
        if (_refCounts[block] <= 0) throw new InvalidOperationException($"block {block} freed twice");
        if (--_refCounts[block] == 0) _free.Push(block);
    }
}
