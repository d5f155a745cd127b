namespace OrleansInfer.Engine.KvCache;

/// <summary>A sequence's block table and the prefix hashes of its committed (full, computed) blocks.</summary>
public sealed class SequenceBlocks
{
    /// <summary>Physical block ids, one per logical block of the sequence.</summary>
    public List<int> Ids { get; } = [];

    /// <summary>Chained hashes of the leading blocks whose tokens are all computed (the prefix-cache keys).</summary>
    internal List<ulong> Hashes { get; } = [];

    public int Count => Ids.Count;
}
