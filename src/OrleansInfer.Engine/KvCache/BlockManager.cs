namespace OrleansInfer.Engine.KvCache;

/// <summary>
/// The KV block pool of one engine, in the manner of nano-vllm and vLLM v1: a free list, reference counts, and a
/// prefix cache. Blocks are taken as a sequence grows, never for its worst case. A full block whose tokens are
/// computed is registered under a chained hash (its tokens and the previous block's hash), so a later prompt
/// with the same prefix reuses it; a freed block keeps its contents and stays findable until it is taken for
/// something else, least recently freed first. Forked sequences share blocks by reference count and copy a
/// shared block before writing into it. Running out is a <c>false</c>, never an exception.
/// </summary>
public sealed class BlockManager
{
    private readonly int[] _refCounts;
    private readonly int[] _prev;
    private readonly int[] _next;
    private readonly bool[] _isFree;
    private readonly bool[] _isRegistered;
    private readonly ulong[] _hash;
    private readonly ulong[] _parentHash;
    private readonly int[] _tokens;
    private readonly Dictionary<ulong, int> _cache = [];
    private int _head = -1;
    private int _tail = -1;

    public BlockManager(int blockCount, int blockSize, bool enablePrefixCaching = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockCount = blockCount;
        BlockSize = blockSize;
        PrefixCaching = enablePrefixCaching;
        _refCounts = new int[blockCount];
        _prev = new int[blockCount];
        _next = new int[blockCount];
        _isFree = new bool[blockCount];
        _isRegistered = new bool[blockCount];
        _hash = new ulong[blockCount];
        _parentHash = new ulong[blockCount];
        _tokens = enablePrefixCaching ? new int[(long)blockCount * blockSize] : [];
        for (var b = 0; b < blockCount; b++) PushFree(b);
    }

    public int BlockCount { get; }

    public int BlockSize { get; }

    public bool PrefixCaching { get; }

    /// <summary>Blocks no sequence holds (cached ones included: they are reusable at once).</summary>
    public int FreeBlocks { get; private set; }

    /// <summary>Free blocks that still hold a registered prefix and can be hit by a later prompt.</summary>
    public int CachedBlocks { get; private set; }

    public int UsedBlocks => BlockCount - FreeBlocks;

    /// <summary>Prompt tokens looked up in the prefix cache, and how many were found.</summary>
    public long PrefixQueryTokens { get; private set; }

    public long PrefixHitTokens { get; private set; }

    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    public int ReferenceCount(int block) => _refCounts[block];

    /// <summary>
    /// Finds the longest run of leading full blocks of <paramref name="tokens"/> already in the cache, covering at
    /// most <paramref name="maxTokens"/> tokens; fills <paramref name="blocks"/> and <paramref name="hashes"/>
    /// and returns the tokens covered (a multiple of the block size).
    /// </summary>
    public int MatchPrefix(ReadOnlySpan<int> tokens, int maxTokens, List<int> blocks, List<ulong> hashes)
    {
        blocks.Clear();
        hashes.Clear();
        if (!PrefixCaching) return 0;
        PrefixQueryTokens += tokens.Length;
        ulong parent = 0;
        var covered = 0;
        while (covered + BlockSize <= Math.Min(maxTokens, tokens.Length))
        {
            var blockTokens = tokens.Slice(covered, BlockSize);
            var h = Hash(parent, blockTokens);
            if (!_cache.TryGetValue(h, out var block) || _parentHash[block] != parent ||
                !_tokens.AsSpan(block * BlockSize, BlockSize).SequenceEqual(blockTokens))
                break;
            blocks.Add(block);
            hashes.Add(h);
            parent = h;
            covered += BlockSize;
        }
        PrefixHitTokens += covered;
        return covered;
    }

    /// <summary>True when <see cref="TryAllocate"/> for these numbers would succeed.</summary>
    public bool CanAllocate(SequenceBlocks seq, int totalTokens, IReadOnlyList<int>? cached = null) =>
        FreshNeeded(seq, totalTokens, cached) <= FreeBlocks - FreeAmong(cached);

    /// <summary>
    /// Grows <paramref name="seq"/> to hold <paramref name="totalTokens"/> tokens: first the prefix-cache hits
    /// (only into an empty table), then fresh blocks. All or nothing: false leaves everything as it was.
    /// </summary>
    public bool TryAllocate(SequenceBlocks seq, int totalTokens, IReadOnlyList<int>? cached = null, IReadOnlyList<ulong>? cachedHashes = null)
    {
        if (cached is { Count: > 0 } && seq.Count > 0) throw new InvalidOperationException("prefix-cache hits go into an empty block table");
        if (!CanAllocate(seq, totalTokens, cached)) return false;
        var fresh = FreshNeeded(seq, totalTokens, cached);
        if (cached is not null)
        {
            for (var i = 0; i < cached.Count; i++)
            {
                Retain(cached[i]);
                seq.Ids.Add(cached[i]);
                seq.Hashes.Add(cachedHashes![i]);
            }
        }
        for (var i = 0; i < fresh; i++) seq.Ids.Add(TakeFree());
        return true;
    }

    /// <summary>Registers the full blocks among the first <paramref name="computedTokens"/> of <paramref name="tokens"/> in the prefix cache.</summary>
    public void Commit(SequenceBlocks seq, ReadOnlySpan<int> tokens, int computedTokens)
    {
        if (!PrefixCaching) return;
        var full = Math.Min(computedTokens / BlockSize, seq.Count);
        for (var b = seq.Hashes.Count; b < full; b++)
        {
            var parent = b == 0 ? 0 : seq.Hashes[b - 1];
            var blockTokens = tokens.Slice(b * BlockSize, BlockSize);
            var h = Hash(parent, blockTokens);
            seq.Hashes.Add(h);
            var block = seq.Ids[b];
            if (_isRegistered[block] || _cache.ContainsKey(h)) continue; // a twin computed the same prefix first
            _cache[h] = block;
            _isRegistered[block] = true;
            _hash[block] = h;
            _parentHash[block] = parent;
            blockTokens.CopyTo(_tokens.AsSpan(block * BlockSize, BlockSize));
        }
    }

    /// <summary>Releases the sequence's blocks (last first, so a prefix's head outlives its tail in the cache) and clears the table.</summary>
    public void Free(SequenceBlocks seq)
    {
        for (var i = seq.Count - 1; i >= 0; i--) Release(seq.Ids[i]);
        seq.Ids.Clear();
        seq.Hashes.Clear();
    }

    /// <summary>Makes <paramref name="child"/> share every block of <paramref name="parent"/>.</summary>
    public void Fork(SequenceBlocks parent, SequenceBlocks child)
    {
        if (child.Count > 0) throw new InvalidOperationException("a fork target must be empty");
        foreach (var b in parent.Ids) Retain(b);
        child.Ids.AddRange(parent.Ids);
        child.Hashes.AddRange(parent.Hashes);
    }

    /// <summary>
    /// Copy-on-write before tokens [<paramref name="from"/>, <paramref name="to"/>) are written: each block in that
    /// range that another sequence shares is replaced by a fresh copy (the copy is added to <paramref name="copies"/>
    /// for the runner). Returns the first table index that changed (table count when none), or -1 when the pool
    /// cannot supply the copies (nothing changes then).
    /// </summary>
    public int TryMakeWritable(SequenceBlocks seq, int from, int to, List<BlockCopyRequest> copies)
    {
        if (to <= from) return seq.Count;
        int first = from / BlockSize, last = Math.Min(seq.Count - 1, (to - 1) / BlockSize);
        var needed = 0;
        for (var b = first; b <= last; b++)
        {
            if (_refCounts[seq.Ids[b]] > 1) needed++;
        }
        if (needed == 0) return seq.Count;
        if (needed > FreeBlocks) return -1;
        var changed = seq.Count;
        for (var b = first; b <= last; b++)
        {
            var source = seq.Ids[b];
            if (_refCounts[source] <= 1) continue;
            var copy = TakeFree();
            copies.Add(new BlockCopyRequest(source, copy));
            Release(source);
            seq.Ids[b] = copy;
            if (b < seq.Hashes.Count) seq.Hashes.RemoveRange(b, seq.Hashes.Count - b);
            changed = Math.Min(changed, b);
        }
        return changed;
    }

    private int FreshNeeded(SequenceBlocks seq, int totalTokens, IReadOnlyList<int>? cached) =>
        Math.Max(0, BlocksFor(totalTokens) - seq.Count - (cached?.Count ?? 0));

    private int FreeAmong(IReadOnlyList<int>? blocks)
    {
        if (blocks is null) return 0;
        var n = 0;
        foreach (var b in blocks)
        {
            if (_isFree[b]) n++;
        }
        return n;
    }

    private void Retain(int block)
    {
        if (_refCounts[block]++ == 0) RemoveFree(block);
    }

    private void Release(int block)
    {
        if (_refCounts[block] <= 0) throw new InvalidOperationException($"block {block} freed twice");
        if (--_refCounts[block] == 0) PushFree(block);
    }

    /// <summary>Takes the least recently freed block, dropping whatever prefix it held.</summary>
    private int TakeFree()
    {
        var block = _head;
        if (block < 0) throw new InvalidOperationException("no free KV block");
        RemoveFree(block);
        if (_isRegistered[block])
        {
            _cache.Remove(_hash[block]);
            _isRegistered[block] = false;
        }
        _refCounts[block] = 1;
        return block;
    }

    private void PushFree(int block)
    {
        _isFree[block] = true;
        _prev[block] = _tail;
        _next[block] = -1;
        if (_tail >= 0) _next[_tail] = block;
        else _head = block;
        _tail = block;
        FreeBlocks++;
        if (_isRegistered[block]) CachedBlocks++;
    }

    private void RemoveFree(int block)
    {
        if (!_isFree[block]) return;
        _isFree[block] = false;
        if (_prev[block] >= 0) _next[_prev[block]] = _next[block];
        else _head = _next[block];
        if (_next[block] >= 0) _prev[_next[block]] = _prev[block];
        else _tail = _prev[block];
        FreeBlocks--;
        if (_isRegistered[block]) CachedBlocks--;
    }

    private static ulong Hash(ulong parent, ReadOnlySpan<int> tokens) => PrefixHash.Block(parent, tokens);

    /// <summary>Up to <paramref name="max"/> prefix hashes the cache can serve now (blocks in use or cached).</summary>
    public ulong[] PrefixHashes(int max) => _cache.Keys.Take(max).ToArray();
}

/// <summary>A KV block to copy before a step (copy-on-write of a shared block).</summary>
public readonly record struct BlockCopyRequest(int Source, int Destination);
