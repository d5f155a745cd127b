namespace OrleansInfer.Abstractions;

/// <summary>
/// A piece of a request's stream. An empty chunk is a heartbeat. <see cref="MovedTo"/> set means the worker handed
/// the request off: the caller resumes it on that worker with what it has received. <see cref="Progress"/> chunks
/// record best_of candidates for resuming; callers of the resilient stream never see them.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TokenChunk
{
    [Id(0)] public int Index { get; init; }
    [Id(1)] public int[] TokenIds { get; init; } = [];
    [Id(2)] public string Text { get; init; } = "";
    /// <summary>"stop" or "length" on an output's last chunk.</summary>
    [Id(3)] public string? FinishReason { get; init; }
    [Id(4)] public UsageReport? Usage { get; init; }
    /// <summary>The sampler's state after this chunk's tokens (sampled outputs), for resuming elsewhere.</summary>
    [Id(5)] public ulong[]? RngState { get; init; }
    [Id(6)] public string? MovedTo { get; init; }
    /// <summary>The worker that produced the chunk.</summary>
    [Id(7)] public string Worker { get; init; } = "";
    [Id(8)] public TokenLogprobReport[]? Logprobs { get; init; }
    [Id(9)] public bool Progress { get; init; }
    [Id(10)] public double CumulativeLogprob { get; init; }

    public bool IsHeartbeat => TokenIds.Length == 0 && FinishReason is null && Usage is null && MovedTo is null;
}

[GenerateSerializer, Immutable]
public sealed record UsageReport([property: Id(0)] int PromptTokens, [property: Id(1)] int CompletionTokens, [property: Id(2)] int CachedPromptTokens);

[GenerateSerializer, Immutable]
public sealed record TokenLogprobReport([property: Id(0)] int TokenId, [property: Id(1)] float Logprob, [property: Id(2)] int[] TopTokenIds, [property: Id(3)] float[] TopLogprobs);
