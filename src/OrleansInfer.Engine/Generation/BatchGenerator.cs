using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Generation;

/// <summary>
/// Runs a set of requests to completion together on one model runner: every step carries one decode token for
/// each sequence past its prompt plus as much prompt as the token budget leaves (prompts longer than the
/// budget are prefilled in chunks), and KV blocks are taken as sequences grow. A sequence that cannot get a
/// block waits for others to finish; when none can move, the newest gives its blocks back and is recomputed. Sampling is per request, so a seeded or greedy request gives the same
/// tokens alone or in any batch.
/// </summary>
public sealed class BatchGenerator
{
    private readonly IModelRunner _runner;
    private readonly IReadOnlySet<int> _endTokens;
    private readonly Sampler _sampler;
    private readonly float[] _logits;
    private readonly ForwardBatch _batch = new();
    private readonly List<long> _pendingReleases = [];
    private long _nextSequenceId;

    public BatchGenerator(IModelRunner runner, IEnumerable<int> endOfGenerationTokens)
    {
        _runner = runner;
        _endTokens = endOfGenerationTokens.ToHashSet();
        _sampler = new Sampler(runner.Config.VocabSize);
        _logits = new float[runner.MaxBatchSequences * runner.Config.VocabSize];
        Blocks = new BlockManager(runner.KvCache.BlockCount, runner.KvCache.BlockSize);
    }

    /// <summary>The KV blocks this generator hands to its sequences.</summary>
    public BlockManager Blocks { get; }

    /// <summary>
    /// Generates every request; <paramref name="onToken"/> sees each token as it is sampled (request index, token).
    /// Results are in request order.
    /// </summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, Action<int, int>? onToken = null, CancellationToken cancellationToken = default)
    {
        var contextLength = _runner.Config.ContextLength;
        var maxSequenceTokens = Math.Min(contextLength, Blocks.BlockCount * Blocks.BlockSize);
        var sequences = new List<Sequence>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            r.Sampling.Validate();
            if (r.PromptTokens.Length == 0) throw new InvalidRequestException("prompt", "the prompt has no tokens");
            if (r.PromptTokens.Length >= contextLength)
                throw new InvalidRequestException("prompt", $"{r.PromptTokens.Length} prompt tokens leave no room in the model's context of {contextLength}");
            if (r.PromptTokens.Length >= maxSequenceTokens)
                throw new InvalidRequestException("prompt", $"{r.PromptTokens.Length} prompt tokens do not fit the KV cache of {maxSequenceTokens} slots");
            foreach (var t in r.PromptTokens)
            {
                if ((uint)t >= (uint)_runner.Config.VocabSize) throw new InvalidRequestException("prompt", $"token id {t} is outside the vocabulary of {_runner.Config.VocabSize}");
            }
            sequences.Add(new Sequence(_nextSequenceId++, i, r));
        }

        var active = new List<Sequence>(sequences);
        try
        {
            while (active.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scheduled = Schedule(active);
                if (scheduled.Count == 0)
                {
                    // Every sequence is stuck waiting for a block: give the newest one's blocks back and
                    // recompute it from its tokens later.
                    var victim = active.LastOrDefault(s => s.Table.Count > 0)
                        ?? throw new InvalidOperationException($"the KV cache ({Blocks.BlockCount} blocks of {Blocks.BlockSize}) cannot hold the next token of any sequence");
                    Release(victim);
                    victim.Computed = 0;
                    continue;
                }
                _runner.Execute(_batch, _logits);
                Postprocess(scheduled, onToken, maxSequenceTokens);
                active.RemoveAll(s => s.Finished is not null);
            }
        }
        finally
        {
            // Free what is left (cancellation or failure) so the pool is whole and the runner forgets every sequence.
            foreach (var s in sequences) Release(s);
            _batch.Clear();
            FlushReleases();
            if (!_batch.IsEmpty) _runner.Execute(_batch, Span<float>.Empty);
            _batch.Clear();
        }

        return sequences.Select(s => new GenerationResult(s.Request.PromptTokens, [.. s.Generated], s.Finished!.Value)).ToList();
    }

    private List<Sequence> Schedule(List<Sequence> active)
    {
        _batch.Clear();
        FlushReleases();
        var budget = _runner.MaxBatchTokens;
        var scheduled = new List<Sequence>();
        // Decodes first (they hold KV already and each costs one token), then prompt chunks.
        foreach (var s in active.OrderBy(s => s.InPrefill ? 1 : 0))
        {
            if (budget == 0 || scheduled.Count == _runner.MaxBatchSequences) break;
            var count = Math.Min(budget, s.Tokens.Count - s.Computed);
            var before = s.Table.Count;
            if (!Blocks.TryEnsureCapacity(s.Table, s.Computed + count)) continue;
            if (s.Table.Count > before)
            {
                _batch.UpdateBlocks(s.Id, before, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Table)[before..]);
                s.Registered = true;
            }
            var completesPrompt = s.Computed + count == s.Tokens.Count;
            _batch.AddSequence(s.Id, s.Computed, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Tokens).Slice(s.Computed, count), completesPrompt);
            s.ScheduledCount = count;
            budget -= count;
            scheduled.Add(s);
        }
        return scheduled;
    }

    private void Postprocess(List<Sequence> scheduled, Action<int, int>? onToken, int maxSequenceTokens)
    {
        var vocab = _runner.Config.VocabSize;
        var row = 0;
        foreach (var s in scheduled)
        {
            s.Computed += s.ScheduledCount;
            if (s.Computed < s.Tokens.Count) continue; // mid-prompt chunk: no logits
            var logits = _logits.AsSpan(row++ * vocab, vocab);
            var token = _sampler.Sample(logits, s.Request.Sampling, ref s.Rng);
            s.Tokens.Add(token);
            s.Generated.Add(token);
            onToken?.Invoke(s.RequestIndex, token);
            if (!s.Request.Sampling.IgnoreEos && _endTokens.Contains(token)) s.Finished = FinishReason.Stop;
            else if (s.Generated.Count >= s.Request.Sampling.MaxTokens || s.Tokens.Count >= maxSequenceTokens) s.Finished = FinishReason.Length;
            if (s.Finished is not null) Release(s);
        }
    }

    /// <summary>Returns the sequence's blocks to the pool; the runner drops its table with the next batch.</summary>
    private void Release(Sequence s)
    {
        Blocks.Free(s.Table);
        if (s.Registered) _pendingReleases.Add(s.Id);
        s.Registered = false;
    }

    private void FlushReleases()
    {
        foreach (var id in _pendingReleases) _batch.Release(id);
        _pendingReleases.Clear();
    }

    private sealed class Sequence(long id, int requestIndex, GenerationRequest request)
    {
        public long Id { get; } = id;
        public int RequestIndex { get; } = requestIndex;
        public GenerationRequest Request { get; } = request;
        public List<int> Tokens { get; } = [.. request.PromptTokens];
        public List<int> Generated { get; } = [];
        public List<int> Table { get; } = [];
        public Xoshiro256 Rng = new(request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64());
        public int Computed { get; set; }
        public int ScheduledCount { get; set; }
        public bool Registered { get; set; }
        public FinishReason? Finished { get; set; }
        public bool InPrefill => Computed < Request.PromptTokens.Length;
    }
}
