using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Engine.Generation;

/// <summary>
/// What one output (or, for best_of &gt; n, one candidate sequence) already produced elsewhere: a request moved
/// between workers, or recovered after a failure, continues from it exactly as if it had never stopped.
/// </summary>
/// <param name="Index">The output index (streamed requests), or the candidate index 0..best_of-1 (best_of &gt; n).</param>
/// <param name="Tokens">The tokens it generated; they are recomputed, count towards max_tokens and are not sent again.</param>
public sealed record ResumedOutput(int Index, int[] Tokens)
{
    /// <summary>The sampler's state after <see cref="Tokens"/>; null for greedy requests, or to derive it as a fresh run does.</summary>
    public (ulong, ulong, ulong, ulong)? RngState { get; init; }

    /// <summary>Set when this output already ended: it is not continued, only counted (usage, best_of selection).</summary>
    public FinishReason? Finished { get; init; }

    /// <summary>Sum of the log-probabilities of <see cref="Tokens"/> (best_of selection).</summary>
    public double CumulativeLogprob { get; init; }

    /// <summary>The per-token log-probabilities already produced, when the request asks for logprobs.</summary>
    public IReadOnlyList<TokenLogprobs>? Logprobs { get; init; }
}
