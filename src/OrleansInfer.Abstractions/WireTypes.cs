namespace OrleansInfer.Abstractions;

/// <summary>How a request samples (the wire form of the engine's SamplingParams).</summary>
[GenerateSerializer, Immutable]
public sealed record SamplingSpec
{
    [Id(0)] public float Temperature { get; init; } = 1f;
    [Id(1)] public int TopK { get; init; }
    [Id(2)] public float TopP { get; init; } = 1f;
    [Id(3)] public float MinP { get; init; }
    [Id(4)] public float RepetitionPenalty { get; init; } = 1f;
    [Id(5)] public float PresencePenalty { get; init; }
    [Id(6)] public float FrequencyPenalty { get; init; }
    [Id(7)] public int MaxTokens { get; init; } = 16;
    [Id(8)] public ulong? Seed { get; init; }
    [Id(9)] public bool IgnoreEos { get; init; }
    [Id(10)] public int[] StopTokenIds { get; init; } = [];
    [Id(11)] public string[] Stop { get; init; } = [];
    [Id(12)] public int N { get; init; } = 1;
    [Id(13)] public int? BestOf { get; init; }
    [Id(14)] public int BeamWidth { get; init; }
    [Id(15)] public float LengthPenalty { get; init; } = 1f;
    [Id(16)] public bool EarlyStopping { get; init; }
    [Id(17)] public int? Logprobs { get; init; }

    /// <summary>Sequences the request runs at once (beams, or best_of samples).</summary>
    public int Width => BeamWidth > 0 ? BeamWidth : BestOf ?? N;

    /// <summary>Only single-output requests can move between workers mid-stream.</summary>
    public bool CanResume => BeamWidth == 0 && Width == 1;
}

/// <summary>
/// A generation request as it travels to a worker. A resumed request (after a move or a failure) carries the
/// tokens already delivered and the sampler's state after them; the worker recomputes them and goes on.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerateRequest
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required int[] PromptTokens { get; init; }
    [Id(2)] public SamplingSpec Sampling { get; init; } = new();
    [Id(3)] public int[] ResumeTokens { get; init; } = [];
    [Id(4)] public ulong[]? RngState { get; init; }
    /// <summary>The router's placement ticket (lets the router know when the worker has seen it).</summary>
    [Id(5)] public long PlacementTicket { get; init; }
    [Id(6)] public int Priority { get; init; }
}

/// <summary>
/// A piece of a request's stream. <see cref="MovedTo"/> set means the worker handed the request off: the caller
/// resumes it on that worker with what it has received so far.
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
    /// <summary>The sampler's state after this chunk's tokens (sampled requests only), for resuming elsewhere.</summary>
    [Id(5)] public ulong[]? RngState { get; init; }
    [Id(6)] public string? MovedTo { get; init; }
    /// <summary>The worker that produced the chunk.</summary>
    [Id(7)] public string Worker { get; init; } = "";
    [Id(8)] public TokenLogprobReport[]? Logprobs { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record UsageReport([property: Id(0)] int PromptTokens, [property: Id(1)] int CompletionTokens, [property: Id(2)] int CachedPromptTokens);

[GenerateSerializer, Immutable]
public sealed record TokenLogprobReport([property: Id(0)] int TokenId, [property: Id(1)] float Logprob, [property: Id(2)] int[] TopTokenIds, [property: Id(3)] float[] TopLogprobs);

/// <summary>What a worker tells its router every few hundred milliseconds: the router places work by it without calling anyone.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkerLoad
{
    [Id(0)] public required string WorkerKey { get; init; }
    [Id(1)] public required string ModelId { get; init; }
    [Id(2)] public string Device { get; init; } = "";
    [Id(3)] public int BlockSize { get; init; }
    [Id(4)] public int TotalBlocks { get; init; }
    [Id(5)] public int FreeBlocks { get; init; }
    [Id(6)] public int CachedBlocks { get; init; }
    [Id(7)] public long BytesPerBlock { get; init; }
    [Id(8)] public int RunningRequests { get; init; }
    [Id(9)] public int WaitingRequests { get; init; }
    [Id(10)] public double TokensPerSecond { get; init; }
    /// <summary>Chained hashes of full prompt blocks the worker holds (most recent first, bounded).</summary>
    [Id(11)] public ulong[] PrefixHashes { get; init; } = [];
    /// <summary>The highest placement ticket the worker has received.</summary>
    [Id(12)] public long LastTicket { get; init; }
    [Id(13)] public bool Draining { get; init; }
    [Id(14)] public int ContextLength { get; init; }
    [Id(15)] public long Sequence { get; init; }
    /// <summary>KV blocks the waiting requests' prompts will need when admitted.</summary>
    [Id(16)] public int QueuedBlocks { get; init; }
    /// <summary>Requests the worker's engine lets wait (its queue bound; 0 when unknown).</summary>
    [Id(17)] public int MaxQueue { get; init; }

    public long FreeBytes => FreeBlocks * BytesPerBlock;
    public long TotalBytes => TotalBlocks * BytesPerBlock;
}

/// <summary>What the router needs to place a request: its size, and its prompt for prefix-aware placement.</summary>
[GenerateSerializer, Immutable]
public sealed record PlacementRequest
{
    [Id(0)] public required int[] PromptTokens { get; init; }
    [Id(1)] public int MaxTokens { get; init; } = 16;
    [Id(2)] public int Width { get; init; } = 1;
    /// <summary>Workers not to use (one that just failed the request).</summary>
    [Id(3)] public string[] Exclude { get; init; } = [];
    /// <summary>Tokens already generated (a resumed request needs room for them too).</summary>
    [Id(4)] public int ResumedTokens { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record PlacementDecision([property: Id(0)] string WorkerKey, [property: Id(1)] long Ticket);

/// <summary>A request's state, enough to resume it on another worker.</summary>
[GenerateSerializer, Immutable]
public sealed record SequenceState
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required int[] PromptTokens { get; init; }
    [Id(2)] public required SamplingSpec Sampling { get; init; }
    [Id(3)] public int[] GeneratedTokens { get; init; } = [];
    [Id(4)] public ulong[]? RngState { get; init; }
}
