using OrleansInfer.Engine.KvCache;

namespace OrleansInfer.Engine.Tests;

public sealed class BlockManagerTests
{
    private static SequenceBlocks Allocated(BlockManager m, int tokens)
    {
        var s = new SequenceBlocks();
        Assert.True(m.TryAllocate(s, tokens));
        return s;
    }

    /// <summary>Allocates, computes (commits) and returns a sequence holding <paramref name="tokens"/>.</summary>
    private static SequenceBlocks Computed(BlockManager m, int[] tokens)
    {
        var s = Allocated(m, tokens.Length);
        m.Commit(s, tokens, tokens.Length);
        return s;
    }

    private static (int Covered, List<int> Blocks, List<ulong> Hashes) Match(BlockManager m, int[] tokens, int? maxTokens = null)
    {
        var blocks = new List<int>();
        var hashes = new List<ulong>();
        var covered = m.MatchPrefix(tokens, maxTokens ?? tokens.Length, blocks, hashes);
        return (covered, blocks, hashes);
    }

    [Fact]
    public void BlocksAreTakenAsSequencesGrow()
    {
        var m = new BlockManager(blockCount: 4, blockSize: 16);
        var a = new SequenceBlocks();
        Assert.True(m.TryAllocate(a, 1));
        Assert.Equal([0], a.Ids);
        Assert.True(m.TryAllocate(a, 16));
        Assert.Equal([0], a.Ids);
        Assert.True(m.TryAllocate(a, 17));
        Assert.Equal([0, 1], a.Ids);
        Assert.True(m.TryAllocate(a, 10)); // shrinking never gives blocks back
        Assert.Equal([0, 1], a.Ids);
        Assert.Equal(2, m.FreeBlocks);
        Assert.Equal(2, m.UsedBlocks);
        Assert.Equal(1, m.ReferenceCount(0));
        Assert.Equal(0, m.ReferenceCount(2));
        Assert.Equal(3, m.BlocksFor(33));
    }

    [Fact]
    public void RunningOutIsFalseAndChangesNothing()
    {
        var m = new BlockManager(4, 16);
        var a = Allocated(m, 17);
        var b = new SequenceBlocks();
        Assert.False(m.CanAllocate(b, 48));
        Assert.False(m.TryAllocate(b, 48)); // needs 3, 2 free
        Assert.Empty(b.Ids);
        Assert.Equal(2, m.FreeBlocks);
        Assert.False(m.TryAllocate(a, 65)); // growing needs 3 more, 2 free: refused, a keeps its 2
        Assert.Equal(2, a.Count);
        Assert.Equal(2, m.FreeBlocks);
        Assert.True(m.TryAllocate(a, 33)); // one more fits
        Assert.Equal(3, a.Count);
        Assert.Equal(1, m.FreeBlocks);

        m.Free(a);
        Assert.Empty(a.Ids);
        Assert.Equal(4, m.FreeBlocks);
        Assert.True(m.TryAllocate(b, 64));
        Assert.Equal(4, b.Ids.Distinct().Count());
    }

    [Fact]
    public void AFailedAllocationWithPrefixHitsRetainsNoHit()
    {
        var m = new BlockManager(4, 2);
        var tokens = new[] { 1, 2, 3, 4 };
        m.Free(Computed(m, tokens));
        Assert.Equal(2, m.CachedBlocks);
        var (covered, hits, hashes) = Match(m, tokens);
        Assert.Equal(4, covered);

        var s = new SequenceBlocks();
        Assert.False(m.TryAllocate(s, 12, hits, hashes)); // 2 hits + 4 fresh > the 2 other free blocks
        Assert.Empty(s.Ids);
        Assert.Equal(4, m.FreeBlocks);
        Assert.Equal(2, m.CachedBlocks);
        Assert.All(hits, b => Assert.Equal(0, m.ReferenceCount(b)));
        Assert.Equal(4, Match(m, tokens).Covered);
    }

    [Fact]
    public void FreeingTwiceIsAnError()
    {
        var m = new BlockManager(2, 4);
        var a = Allocated(m, 4);
        var copy = new SequenceBlocks();
        copy.Ids.AddRange(a.Ids);
        m.Free(a);
        Assert.Throws<InvalidOperationException>(() => m.Free(copy));
    }

    [Fact]
    public void ForkSharesBlocksByReferenceCount()
    {
        var m = new BlockManager(4, 4);
        var a = Allocated(m, 6);
        var b = new SequenceBlocks();
        m.Fork(a, b);
        Assert.Equal(a.Ids, b.Ids);
        Assert.All(a.Ids, id => Assert.Equal(2, m.ReferenceCount(id)));
        Assert.Equal(2, m.FreeBlocks); // sharing takes nothing

        var c = new SequenceBlocks();
        m.Fork(b, c);
        Assert.All(a.Ids, id => Assert.Equal(3, m.ReferenceCount(id)));
        Assert.Throws<InvalidOperationException>(() => m.Fork(a, c)); // a fork target must be empty

        m.Free(a);
        Assert.All(b.Ids, id => Assert.Equal(2, m.ReferenceCount(id)));
        Assert.Equal(2, m.FreeBlocks);
        m.Free(b);
        m.Free(c);
        Assert.Equal(4, m.FreeBlocks);
        Assert.All(Enumerable.Range(0, 4), id => Assert.Equal(0, m.ReferenceCount(id)));
    }

    [Fact]
    public void CopyOnWriteReplacesOnlySharedBlocksInTheWrittenRange()
    {
        var m = new BlockManager(6, 4);
        var a = Allocated(m, 6); // blocks 0, 1: tokens 0..5
        var b = new SequenceBlocks();
        m.Fork(a, b);
        var copies = new List<BlockCopyRequest>();

        // b writes token 6 (block index 1): block 1 is shared, so b gets a copy of it.
        Assert.Equal(1, m.TryMakeWritable(b, 6, 7, copies));
        Assert.Equal([new BlockCopyRequest(1, 2)], copies);
        Assert.Equal([0, 2], b.Ids);
        Assert.Equal([0, 1], a.Ids);
        Assert.Equal(2, m.ReferenceCount(0));
        Assert.Equal(1, m.ReferenceCount(1));
        Assert.Equal(1, m.ReferenceCount(2));

        // a is now the only owner of block 1: no copy, nothing changed (the table's count).
        Assert.Equal(2, m.TryMakeWritable(a, 6, 7, copies));
        Assert.Single(copies);

        // An empty range changes nothing.
        Assert.Equal(2, m.TryMakeWritable(a, 7, 7, copies));

        // Rewriting from token 0 (a recompute) copies every shared block in range, the first changed index is 0.
        var c = new SequenceBlocks();
        m.Fork(a, c);
        copies.Clear();
        Assert.Equal(0, m.TryMakeWritable(c, 0, 8, copies));
        Assert.Equal([new BlockCopyRequest(0, 3), new BlockCopyRequest(1, 4)], copies);
        Assert.Equal([3, 4], c.Ids);
        Assert.Equal(1, m.FreeBlocks);
    }

    [Fact]
    public void CopyOnWriteWithoutEnoughFreeBlocksChangesNothing()
    {
        var m = new BlockManager(3, 4);
        var a = Allocated(m, 8); // blocks 0, 1
        var b = new SequenceBlocks();
        m.Fork(a, b);
        var copies = new List<BlockCopyRequest>();
        Assert.Equal(-1, m.TryMakeWritable(b, 0, 8, copies)); // two copies needed, one block free
        Assert.Empty(copies);
        Assert.Equal([0, 1], b.Ids);
        Assert.Equal(2, m.ReferenceCount(0));
        Assert.Equal(2, m.ReferenceCount(1));
        Assert.Equal(1, m.FreeBlocks);
    }

    [Fact]
    public void CommittedBlocksAreHitAfterFreeAndCounted()
    {
        var m = new BlockManager(8, 4);
        var tokens = Enumerable.Range(10, 10).ToArray(); // 10 tokens: 2 full blocks + 2 tokens
        var a = Allocated(m, tokens.Length);
        m.Commit(a, tokens, 7); // only the first block is fully computed
        m.Commit(a, tokens, 10); // now the second too; the partial third is never registered
        Assert.Equal(0, m.CachedBlocks); // registered, but in use
        var first = a.Ids.ToArray();
        m.Free(a);
        Assert.Equal(8, m.FreeBlocks);
        Assert.Equal(2, m.CachedBlocks);

        var prompt = tokens.Concat([99]).ToArray();
        var (covered, hits, hashes) = Match(m, prompt, prompt.Length - 1);
        Assert.Equal(8, covered);
        Assert.Equal(first[..2], hits);
        Assert.Equal(8, m.PrefixHitTokens);
        Assert.Equal(prompt.Length, m.PrefixQueryTokens);

        var b = new SequenceBlocks();
        Assert.True(m.TryAllocate(b, prompt.Length, hits, hashes));
        Assert.Equal(first[..2], b.Ids.Take(2));
        Assert.Equal(3, b.Count);
        Assert.Equal(5, m.FreeBlocks);
        Assert.Equal(0, m.CachedBlocks);
        Assert.Equal(1, m.ReferenceCount(first[0]));

        // A live block is hit too (shared by reference count).
        var (again, liveHits, liveHashes) = Match(m, prompt, prompt.Length - 1);
        Assert.Equal(8, again);
        var c = new SequenceBlocks();
        Assert.True(m.TryAllocate(c, 9, liveHits, liveHashes));
        Assert.Equal(2, m.ReferenceCount(first[0]));
        Assert.Equal(16, m.PrefixHitTokens);

        // The hit is bounded by maxTokens, in whole blocks.
        Assert.Equal(4, Match(m, prompt, 7).Covered);
        // A different second block stops the match after the first.
        var other = tokens.ToArray();
        other[5] = 0;
        Assert.Equal(4, Match(m, other).Covered);
        // A different first block misses, whatever follows.
        other = tokens.ToArray();
        other[0] = 0;
        Assert.Equal(0, Match(m, other).Covered);
    }

    [Fact]
    public void IdenticalBlocksOfTwinsAreRegisteredOnce()
    {
        var m = new BlockManager(4, 2);
        var tokens = new[] { 1, 2, 3, 4 };
        var a = Computed(m, tokens);
        var b = Computed(m, tokens); // computed the same prefix into other blocks
        m.Free(a);
        m.Free(b);
        Assert.Equal(2, m.CachedBlocks); // only a's blocks are findable
        var (covered, hits, _) = Match(m, tokens);
        Assert.Equal(4, covered);
        Assert.Equal([0, 1], hits);
    }

    [Fact]
    public void EvictionTakesTheLeastRecentlyFreedFirstAndASequencesTailBeforeItsHead()
    {
        var m = new BlockManager(4, 2);
        int[] x = [1, 2, 3, 4], y = [5, 6, 7, 8];
        var a = Computed(m, x); // blocks 0, 1
        var b = Computed(m, y); // blocks 2, 3
        m.Free(a); // frees 1 then 0
        m.Free(b); // frees 3 then 2
        Assert.Equal(4, m.CachedBlocks);

        var taker = new SequenceBlocks();
        Assert.True(m.TryAllocate(taker, 2)); // takes x's tail
        Assert.Equal([1], taker.Ids);
        Assert.Equal(3, m.CachedBlocks);
        Assert.Equal(2, Match(m, x).Covered); // x's head is still there
        Assert.Equal(4, Match(m, y).Covered);

        Assert.True(m.TryAllocate(taker, 4)); // then x's head
        Assert.Equal([1, 0], taker.Ids);
        Assert.Equal(0, Match(m, x).Covered);
        Assert.Equal(4, Match(m, y).Covered);

        Assert.True(m.TryAllocate(taker, 6)); // then y's tail
        Assert.Equal([1, 0, 3], taker.Ids);
        Assert.Equal(2, Match(m, y).Covered);
        Assert.Equal(1, m.CachedBlocks);
        Assert.Equal(1, m.FreeBlocks);
    }

    [Fact]
    public void AHitAndFreedBlockBecomesTheMostRecentlyFreed()
    {
        var m = new BlockManager(4, 2);
        int[] x = [1, 2, 3, 4], y = [5, 6, 7, 8];
        var a = Computed(m, x); // 0, 1
        var b = Computed(m, y); // 2, 3
        m.Free(a);
        m.Free(b); // LRU order: 1, 0, 3, 2

        var (_, hits, hashes) = Match(m, x);
        var again = new SequenceBlocks();
        Assert.True(m.TryAllocate(again, 4, hits, hashes));
        Assert.Equal([0, 1], again.Ids);
        m.Free(again); // LRU order: 3, 2, 1, 0

        var taker = new SequenceBlocks();
        Assert.True(m.TryAllocate(taker, 4));
        Assert.Equal([3, 2], taker.Ids);
        Assert.Equal(4, Match(m, x).Covered);
        Assert.Equal(0, Match(m, y).Covered);
    }

    [Fact]
    public void AHashHitWhoseTokensDifferIsAMiss()
    {
        var m = new BlockManager(4, 2);
        int[] x = [1, 2, 3, 4];
        m.Free(Computed(m, x));
        Assert.Equal(4, Match(m, x).Covered);

        // Simulate a 64-bit hash collision: the cache entry for x's first block now holds other tokens.
        var field = typeof(BlockManager).GetField("_tokens", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var stored = (int[])field.GetValue(m)!;
        stored[0 * 2 + 1] = 42;
        Assert.Equal(0, Match(m, x).Covered);
    }

    [Fact]
    public void CountersFollowTheLifecycle()
    {
        var m = new BlockManager(6, 2);
        Assert.Equal((6, 0, 0), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));
        var a = Computed(m, [1, 2, 3, 4, 5]); // 3 blocks, 2 registered
        Assert.Equal((3, 0, 3), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));
        m.Free(a);
        Assert.Equal((6, 2, 0), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));

        var (_, hits, hashes) = Match(m, [1, 2, 3, 4, 5], 4);
        var b = new SequenceBlocks();
        Assert.True(m.TryAllocate(b, 2, hits.Take(1).ToList(), hashes.Take(1).ToList())); // one hit
        Assert.Equal((5, 1, 1), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));
        var c = Allocated(m, 10); // 5 fresh: evicts the other cached block
        Assert.Equal((0, 0, 6), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));
        m.Free(c);
        m.Free(b);
        Assert.Equal((6, 1, 0), (m.FreeBlocks, m.CachedBlocks, m.UsedBlocks));
    }

    [Fact]
    public void WithoutPrefixCachingNothingIsRegisteredOrHit()
    {
        var m = new BlockManager(4, 2, enablePrefixCaching: false);
        int[] x = [1, 2, 3, 4];
        m.Free(Computed(m, x));
        Assert.Equal(0, m.CachedBlocks);
        Assert.Equal(0, Match(m, x).Covered);
        Assert.Equal(0, m.PrefixQueryTokens);
    }
}
