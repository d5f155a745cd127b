using System.Runtime.InteropServices;

namespace OrleansInfer.Engine.Runner;

/// <summary>
/// One step's work for a model runner, in the style of vLLM v1: the runner keeps each sequence's block table
/// between steps, so a batch carries only what changed (released sequences, new or replaced blocks, block
/// copies for copy-on-write) plus the new tokens of every scheduled sequence. Reused across steps: the lists
/// are cleared, not reallocated.
/// </summary>
public sealed class ForwardBatch
{
    private readonly List<SequenceStep> _sequences = [];
    private readonly List<int> _tokens = [];
    private readonly List<BlockTableUpdate> _blockUpdates = [];
    private readonly List<int> _blockIds = [];
    private readonly List<long> _released = [];
    private readonly List<BlockCopy> _copies = [];

    /// <summary>Scheduled sequences in batch order; logits rows follow this order.</summary>
    public ReadOnlySpan<SequenceStep> Sequences => CollectionsMarshal.AsSpan(_sequences);

    /// <summary>All new tokens of the step, sequence after sequence.</summary>
    public ReadOnlySpan<int> Tokens => CollectionsMarshal.AsSpan(_tokens);

    public ReadOnlySpan<BlockTableUpdate> BlockUpdates => CollectionsMarshal.AsSpan(_blockUpdates);

    /// <summary>Sequences whose runner-side state (block table) is dropped before this step.</summary>
    public ReadOnlySpan<long> Released => CollectionsMarshal.AsSpan(_released);

    /// <summary>KV block copies (copy-on-write) done before the forward pass.</summary>
    public ReadOnlySpan<BlockCopy> BlockCopies => CollectionsMarshal.AsSpan(_copies);

    public int TokenCount => _tokens.Count;

    public int SequenceCount => _sequences.Count;

    public int LogitsRows { get; private set; }

    public bool IsEmpty => _sequences.Count == 0 && _released.Count == 0;

    public void Clear()
    {
        _sequences.Clear();
        _tokens.Clear();
        _blockUpdates.Clear();
        _blockIds.Clear();
        _released.Clear();
        _copies.Clear();
        LogitsRows = 0;
    }

    /// <summary>Schedules <paramref name="tokens"/> of a sequence at positions starting at <paramref name="startPosition"/>.</summary>
    public void AddSequence(long sequenceId, int startPosition, ReadOnlySpan<int> tokens, bool computeLogits)
    {
        if (tokens.IsEmpty) throw new ArgumentException("a scheduled sequence needs at least one token", nameof(tokens));
        _sequences.Add(new SequenceStep(sequenceId, startPosition, _tokens.Count, tokens.Length, computeLogits));
        _tokens.AddRange(tokens);
        if (computeLogits) LogitsRows++;
    }

    /// <summary>Sets the sequence's block table entries from <paramref name="firstIndex"/> on to <paramref name="blockIds"/> (append, or replace a copied block).</summary>
    public void UpdateBlocks(long sequenceId, int firstIndex, ReadOnlySpan<int> blockIds)
    {
        _blockUpdates.Add(new BlockTableUpdate(sequenceId, firstIndex, _blockIds.Count, blockIds.Length));
        _blockIds.AddRange(blockIds);
    }

    public void Release(long sequenceId) => _released.Add(sequenceId);

    public void CopyBlock(int source, int destination) => _copies.Add(new BlockCopy(source, destination));

    public ReadOnlySpan<int> TokensOf(in SequenceStep step) => Tokens.Slice(step.TokenOffset, step.TokenCount);

    public ReadOnlySpan<int> BlockIdsOf(in BlockTableUpdate update) => CollectionsMarshal.AsSpan(_blockIds).Slice(update.IdOffset, update.Count);
}

/// <summary>A sequence's share of a step: <see cref="TokenCount"/> tokens at positions StartPosition.. .</summary>
public readonly record struct SequenceStep(long SequenceId, int StartPosition, int TokenOffset, int TokenCount, bool ComputeLogits)
{
    /// <summary>Tokens in the KV cache once this step is done.</summary>
    public int EndPosition => StartPosition + TokenCount;
}

public readonly record struct BlockTableUpdate(long SequenceId, int FirstIndex, int IdOffset, int Count);

public readonly record struct BlockCopy(int Source, int Destination);
