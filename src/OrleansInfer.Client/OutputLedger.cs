using OrleansInfer.Abstractions;

namespace OrleansInfer.Client;

/// <summary>
/// The client's record of what a request delivered: each streamed output's tokens, sampler state and finish, each
/// best_of candidate's progress, the outputs delivered whole (beams, best_of), and the usage that ends the request.
/// A resumed attempt carries it, so the caller sees no duplicated and no missing token.
/// </summary>
internal sealed class OutputLedger(SamplingSpec sampling)
{
    private readonly SortedDictionary<int, Progress> _progress = [];
    private readonly HashSet<int> _deliveredWhole = [];

    public UsageReport? Usage { get; private set; }

    public int TokensDelivered { get; private set; }

    /// <summary>The request ended: its last chunk (which carries the usage) arrived.</summary>
    public bool IsComplete => Usage is not null;

    /// <summary>Takes a chunk meant for the caller; false when it repeats an output already delivered whole (a restart).</summary>
    public bool Accept(TokenChunk c)
    {
        if (sampling.Streams) Record(c);
        else if (!_deliveredWhole.Add(c.Index)) return false;
        TokensDelivered += c.TokenIds.Length;
        Usage = c.Usage ?? Usage;
        return true;
    }

    /// <summary>Takes a best_of candidate's progress (never shown to the caller).</summary>
    public void AcceptProgress(TokenChunk c) => Record(c);

    /// <summary>What a resumed attempt carries: streamed outputs or best_of candidates so far; nothing for beams (they restart).</summary>
    public OutputProgress[] Resumed()
    {
        if (!sampling.CanResume) return [];
        var withLogprobs = !sampling.Streams && sampling.Logprobs is not null;
        return _progress.Select(kv => new OutputProgress
        {
            Index = kv.Key,
            Tokens = [.. kv.Value.Tokens],
            RngState = kv.Value.Rng,
            FinishReason = kv.Value.Finish,
            CumulativeLogprob = kv.Value.CumulativeLogprob,
            Logprobs = withLogprobs ? [.. kv.Value.Logprobs] : null,
        }).ToArray();
    }

    /// <summary>The longest unfinished output so far (the context a resumed attempt needs).</summary>
    public int LongestUnfinished => _progress.Values.Where(p => p.Finish is null).Select(p => p.Tokens.Count).DefaultIfEmpty(0).Max();

    private void Record(TokenChunk c)
    {
        if (!_progress.TryGetValue(c.Index, out var p)) _progress[c.Index] = p = new Progress();
        p.Tokens.AddRange(c.TokenIds);
        p.Rng = c.RngState ?? p.Rng;
        p.Finish = c.FinishReason ?? p.Finish;
        p.CumulativeLogprob = c.CumulativeLogprob;
        if (c.Logprobs is not null) p.Logprobs.AddRange(c.Logprobs);
    }

    private sealed class Progress
    {
        public List<int> Tokens { get; } = [];
        public ulong[]? Rng { get; set; }
        public string? Finish { get; set; }
        public double CumulativeLogprob { get; set; }
        public List<TokenLogprobReport> Logprobs { get; } = [];
    }
}
