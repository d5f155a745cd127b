using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// A deterministic fake <see cref="IModelRunner"/>. By default the next token is a fixed function of the last token,
/// (t * 3 + 1) mod vocab; <see cref="Model"/> replaces that with any function of the whole context.
/// <para>
/// It keeps a fake KV store: every computed token writes (position, token) into its slot, found through the
/// runner-side block table, and every later step reads the whole context back from those slots. The context handed
/// to <see cref="Model"/> is what the KV store holds, never what the engine believes, so a scheduling, prefix-cache or
/// copy-on-write bug shows up as a failed check (a slot never written, or written for another position) or as a wrong
/// token. It checks every block-table diff it receives (no gaps, no unknown releases, block ids in the pool, copy
/// targets owned by a live sequence, no write into a block another live sequence also maps) and, when an
/// <see cref="Oracle"/> is set, that its tables and the context it reads equal the engine's own view.
/// </para>
/// </summary>
public sealed class ScriptedRunner : IModelRunner
{
    /// <summary>Computes one row of logits from the context read back from the KV store (prompt and outputs so far).</summary>
    public delegate void ModelFunction(ReadOnlySpan<int> context, Span<float> logits);

    private readonly BlockTables _tables = new();
    private readonly Dictionary<long, List<int>> _mirror = [];
    private readonly int[] _slotPosition;
    private readonly int[] _slotToken;
    private readonly List<int> _context = [];

    public ScriptedRunner(int vocab = 8, int context = 64, int blocks = 32, int blockSize = 4, int maxBatchTokens = 64, int maxSequences = 16)
    {
        Config = new LlamaConfig
        {
            ContextLength = context, EmbeddingLength = 8, BlockCount = 1, FeedForwardLength = 8, HeadCount = 1,
            KvHeadCount = 1, VocabSize = vocab, RopeDimensionCount = 8,
        };
        KvCache = new KvCacheInfo(blockSize, blocks, 64);
        MaxBatchTokens = maxBatchTokens;
        MaxBatchSequences = maxSequences;
        _slotPosition = new int[blocks * blockSize];
        _slotToken = new int[blocks * blockSize];
        Array.Fill(_slotPosition, -1);
        Model = (ctx, row) => Peak(row, Next(ctx[^1], row.Length));
    }

    public LlamaConfig Config
    {
        get
        {
            PropertyRead?.Invoke(nameof(Config));
            return field;
        }
    }

    public KvCacheInfo KvCache
    {
        get
        {
            PropertyRead?.Invoke(nameof(KvCache));
            return field;
        }
    }

    /// <summary>Called on whatever thread reads <see cref="Config"/> or <see cref="KvCache"/>, with the property's name (gates a submitting thread).</summary>
    public Action<string>? PropertyRead { get; set; }
    public int MaxBatchTokens { get; }
    public int MaxBatchSequences { get; }
    public string DeviceName => "scripted";

    /// <summary>The fake model; the default peaks (10 against -10) at (last * 3 + 1) mod vocab.</summary>
    public ModelFunction Model { get; set; }

    /// <summary>The engine's view of a sequence (its tokens and block table), for cross-checks; null: unknown id.</summary>
    public Func<long, (IReadOnlyList<int> Tokens, IReadOnlyList<int> Blocks)?>? Oracle { get; set; }

    /// <summary>Called at the start of every <see cref="Execute"/> with the number of earlier calls (gates, cancellation, failures).</summary>
    public Action<int, ForwardBatch>? BeforeExecute { get; set; }

    /// <summary>Throw before touching any state when this returns true (a call that fails validation).</summary>
    public Func<int, ForwardBatch, bool>? FailBeforeApply { get; set; }

    /// <summary>Throw after applying the diffs and block copies, before computing (a forward pass that fails).</summary>
    public Func<int, ForwardBatch, bool>? FailAfterApply { get; set; }

    /// <summary>Releases of sequences the runner never saw are errors unless this is set (after a failed step the engine may repeat them).</summary>
    public bool AllowUnknownReleases { get; set; }

    /// <summary>Sequences the runner holds a block table for (its shared <see cref="BlockTables"/>, and its own mirror, which must agree).</summary>
    public int LiveSequences
    {
        get
        {
            if (_tables.Count != _mirror.Count) throw new InvalidOperationException($"BlockTables holds {_tables.Count} tables, the mirror {_mirror.Count}");
            return _tables.Count;
        }
    }

    public IReadOnlyCollection<long> LiveSequenceIds => _mirror.Keys;

    /// <summary>Every call, in order.</summary>
    public List<StepRecord> Steps { get; } = [];

    /// <summary>Tokens of every call that carried tokens.</summary>
    public List<int> TokensPerStep => Steps.Where(s => s.TokenCount > 0).Select(s => s.TokenCount).ToList();

    public int Calls { get; private set; }

    public static int Next(int token, int vocab) => (token * 3 + 1) % vocab;

    /// <summary>The default model's output after <paramref name="last"/>: <paramref name="count"/> tokens.</summary>
    public static int[] Expected(int last, int count, int vocab = 8)
    {
        var tokens = new int[count];
        for (var i = 0; i < count; i++) tokens[i] = last = Next(last, vocab);
        return tokens;
    }

    public static void Peak(Span<float> row, int token)
    {
        row.Fill(-10f);
        row[token] = 10f;
    }

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        var call = Calls++;
        BeforeExecute?.Invoke(call, batch);
        if (FailBeforeApply?.Invoke(call, batch) == true) throw new InvalidOperationException($"scripted failure before apply (call {call})");
        Steps.Add(StepRecord.Of(batch));

        ApplyToMirror(batch);
        _tables.Apply(batch, KvCache.BlockCount);
        var bs = KvCache.BlockSize;
        foreach (var copy in batch.BlockCopies)
        {
            if (!_mirror.Values.Any(t => t.Contains(copy.Destination)))
                throw new InvalidOperationException($"block copy {copy.Source} -> {copy.Destination}: no live sequence maps the destination");
            Array.Copy(_slotPosition, copy.Source * bs, _slotPosition, copy.Destination * bs, bs);
            Array.Copy(_slotToken, copy.Source * bs, _slotToken, copy.Destination * bs, bs);
        }
        if (FailAfterApply?.Invoke(call, batch) == true) throw new InvalidOperationException($"scripted failure after apply (call {call})");
        if (batch.TokenCount == 0) return;
        if (batch.TokenCount > MaxBatchTokens) throw new InvalidOperationException($"{batch.TokenCount} tokens over the runner's maximum of {MaxBatchTokens}");
        if (batch.SequenceCount > MaxBatchSequences) throw new InvalidOperationException($"{batch.SequenceCount} sequences over the runner's maximum of {MaxBatchSequences}");

        // Which blocks are mapped by more than one live sequence: none of them may be written.
        var owners = new Dictionary<int, int>();
        foreach (var table in _mirror.Values)
        {
            foreach (var b in table.Distinct()) owners[b] = owners.GetValueOrDefault(b) + 1;
        }

        var vocab = Config.VocabSize;
        var row = 0;
        var seen = new HashSet<long>();
        foreach (ref readonly var s in batch.Sequences)
        {
            if (!seen.Add(s.SequenceId)) throw new InvalidOperationException($"sequence {s.SequenceId} scheduled twice in one step");
            var table = _tables.For(s, bs); // throws when the engine forgot to send blocks
            if (!table.SequenceEqual(_mirror[s.SequenceId])) throw new InvalidOperationException($"sequence {s.SequenceId}: BlockTables and the mirror disagree");
            var truth = Oracle?.Invoke(s.SequenceId);
            if (Oracle is not null)
            {
                if (truth is null) throw new InvalidOperationException($"sequence {s.SequenceId} is scheduled but the engine does not know it");
                if (!table.SequenceEqual(truth.Value.Blocks))
                    throw new InvalidOperationException($"sequence {s.SequenceId}: runner table [{string.Join(",", table)}] != engine table [{string.Join(",", truth.Value.Blocks)}]");
            }

            // Read the context back from the KV store.
            _context.Clear();
            for (var p = 0; p < s.StartPosition; p++)
            {
                var slot = table[p / bs] * bs + p % bs;
                if (_slotPosition[slot] != p)
                    throw new InvalidOperationException($"sequence {s.SequenceId} position {p}: slot {slot} (block {table[p / bs]}) holds position {_slotPosition[slot]} (missing copy, lost or wrong block)");
                _context.Add(_slotToken[slot]);
            }
            var tokens = batch.TokensOf(s);
            // Write the new tokens' keys and values.
            for (var i = 0; i < tokens.Length; i++)
            {
                var p = s.StartPosition + i;
                var block = table[p / bs];
                if (owners.GetValueOrDefault(block) > 1)
                    throw new InvalidOperationException($"sequence {s.SequenceId} writes position {p} into block {block}, which another live sequence maps (copy-on-write missing)");
                var slot = block * bs + p % bs;
                _slotPosition[slot] = p;
                _slotToken[slot] = tokens[i];
                _context.Add(tokens[i]);
            }
            if (truth is { } t)
            {
                var expected = t.Tokens.Take(_context.Count).ToArray();
                if (t.Tokens.Count < _context.Count || !_context.SequenceEqual(expected))
                    throw new InvalidOperationException($"sequence {s.SequenceId}: KV holds [{string.Join(",", _context)}], the engine's tokens are [{string.Join(",", t.Tokens)}]");
            }
            if (!s.ComputeLogits) continue;
            Model(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_context), logits.Slice(row++ * vocab, vocab));
        }
        if (row != batch.LogitsRows) throw new InvalidOperationException($"{row} logits rows written, the batch says {batch.LogitsRows}");
    }

    private void ApplyToMirror(ForwardBatch batch)
    {
        foreach (var id in batch.Released)
        {
            if (!_mirror.Remove(id) && !AllowUnknownReleases) throw new InvalidOperationException($"release of sequence {id}, which the runner does not hold");
        }
        foreach (ref readonly var u in batch.BlockUpdates)
        {
            if (!_mirror.TryGetValue(u.SequenceId, out var table))
            {
                if (u.FirstIndex != 0) throw new InvalidOperationException($"first update of sequence {u.SequenceId} starts at index {u.FirstIndex}");
                _mirror[u.SequenceId] = table = [];
            }
            if (u.FirstIndex > table.Count) throw new InvalidOperationException($"sequence {u.SequenceId}: update at {u.FirstIndex} leaves a gap (table has {table.Count})");
            if (u.Count == 0) throw new InvalidOperationException($"sequence {u.SequenceId}: empty block update");
            var ids = batch.BlockIdsOf(u);
            for (var i = 0; i < ids.Length; i++)
            {
                var at = u.FirstIndex + i;
                if (at < table.Count) table[at] = ids[i];
                else table.Add(ids[i]);
            }
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>What one <see cref="ForwardBatch"/> carried.</summary>
public sealed record StepRecord(
    int TokenCount,
    IReadOnlyList<SequenceRecord> Sequences,
    IReadOnlyList<long> Released,
    IReadOnlyList<BlockCopy> Copies,
    IReadOnlyList<(long SequenceId, int FirstIndex, int[] Blocks)> Updates)
{
    public static StepRecord Of(ForwardBatch batch)
    {
        var seqs = new List<SequenceRecord>();
        foreach (ref readonly var s in batch.Sequences) seqs.Add(new SequenceRecord(s.SequenceId, s.StartPosition, batch.TokensOf(s).ToArray(), s.ComputeLogits));
        var updates = new List<(long, int, int[])>();
        foreach (ref readonly var u in batch.BlockUpdates) updates.Add((u.SequenceId, u.FirstIndex, batch.BlockIdsOf(u).ToArray()));
        return new StepRecord(batch.TokenCount, seqs, batch.Released.ToArray(), batch.BlockCopies.ToArray(), updates);
    }
}

public sealed record SequenceRecord(long SequenceId, int StartPosition, int[] Tokens, bool ComputeLogits)
{
    public int TokenCount => Tokens.Length;
}
