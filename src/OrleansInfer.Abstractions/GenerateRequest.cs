namespace OrleansInfer.Abstractions;

/// <summary>
/// A generation request as it travels to a worker. A resumed request (after a move or a failure) carries what each
/// output already produced, and the sampler's state after it; the worker recomputes it and goes on, so the
/// caller sees exactly the outputs of a fault-free run.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerateRequest
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required int[] PromptTokens { get; init; }
    [Id(2)] public SamplingSpec Sampling { get; init; } = new();
    /// <summary>What each output (or best_of candidate) already produced; empty for a new request.</summary>
    [Id(3)] public OutputProgress[] Resumed { get; init; } = [];
    /// <summary>The router's placement ticket: the worker acknowledges it so the router releases the reservation.</summary>
    [Id(4)] public long PlacementTicket { get; init; }
    [Id(5)] public int Priority { get; init; }
    /// <summary>Stream best_of candidates as progress chunks, so the request can be resumed mid-way.</summary>
    [Id(6)] public bool ReportProgress { get; init; }
}

/// <summary>What one output (or best_of candidate) has produced: the record a resumed request carries.</summary>
[GenerateSerializer, Immutable]
public sealed record OutputProgress
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public int[] Tokens { get; init; } = [];
    /// <summary>The sampler's state after <see cref="Tokens"/> (sampled outputs).</summary>
    [Id(2)] public ulong[]? RngState { get; init; }
    /// <summary>"stop" or "length" once the output ended.</summary>
    [Id(3)] public string? FinishReason { get; init; }
    [Id(4)] public double CumulativeLogprob { get; init; }
    [Id(5)] public TokenLogprobReport[]? Logprobs { get; init; }
}
