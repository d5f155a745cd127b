using OrleansInfer.Engine.Generation;

namespace OrleansInfer.Engine.Outputs;

/// <summary>
/// A piece of one request's output stream: the tokens and text an output (Index, for n &gt; 1 or beams) gained
/// since its previous chunk, their log-probabilities when asked for, and on the output's last chunk the finish
/// reason. The request's very last chunk carries <see cref="Usage"/>. Progress chunks (<see cref="IsProgress"/>)
/// report a best_of candidate's growth and are not part of the result.
/// </summary>
public sealed record GenerationChunk(
    int Index,
    IReadOnlyList<int> TokenIds,
    string Text,
    IReadOnlyList<TokenLogprobs>? Logprobs = null,
    FinishReason? FinishReason = null,
    UsageInfo? Usage = null)
{
    public bool IsFinal => FinishReason is not null;

    /// <summary>The sampler's state after this chunk (sampled outputs and candidates; null when greedy or not streamed), for resuming elsewhere.</summary>
    public (ulong, ulong, ulong, ulong)? RngState { get; init; }

    /// <summary>
    /// A best_of candidate's progress (only with <see cref="GenerationRequest.ReportProgress"/>): <see cref="Index"/> is the
    /// candidate index, the chunk holds its new tokens, text, log-probabilities and, when it ended, its finish reason.
    /// </summary>
    public bool IsProgress { get; init; }

    /// <summary>The output's cumulative log-probability after this chunk (0 when the request tracks none: greedy or streamed without logprobs).</summary>
    public double CumulativeLogprob { get; init; }
}

/// <summary>The log-probability of a generated token and the most likely alternatives at its position.</summary>
public sealed record TokenLogprobs(int TokenId, float Logprob, IReadOnlyList<TokenLogprob> Top);

public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>Token counts of a finished request; cached prompt tokens came from the prefix cache.</summary>
public sealed record UsageInfo(int PromptTokens, int CompletionTokens, int CachedPromptTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>One complete output of a request (what a stream adds up to).</summary>
public sealed record GenerationOutput(int Index, int[] TokenIds, string Text, FinishReason FinishReason, double CumulativeLogprob, IReadOnlyList<TokenLogprobs>? Logprobs);

/// <summary>Everything a request produced: its outputs in index order and its usage.</summary>
public sealed record GenerationResult(int[] PromptTokenIds, IReadOnlyList<GenerationOutput> Outputs, UsageInfo Usage)
{
    /// <summary>The first (best) output.</summary>
    public GenerationOutput Output => Outputs[0];
}
