namespace OrleansInfer.Abstractions;

/// <summary>What the router needs to place a request: its size, and its prompt for prefix-aware placement.</summary>
[GenerateSerializer, Immutable]
public sealed record PlacementRequest
{
    [Id(0)] public required int[] PromptTokens { get; init; }
    [Id(1)] public int MaxTokens { get; init; } = 16;
    [Id(2)] public int Width { get; init; } = 1;
    /// <summary>Workers not to use (one that just failed the request).</summary>
    [Id(3)] public string[] Exclude { get; init; } = [];
    /// <summary>The longest output already generated (a resumed request needs its context to hold it).</summary>
    [Id(4)] public int ResumedTokens { get; init; }
}

/// <summary>The chosen worker and the ticket the request carries there (a random number: it releases only its own reservation).</summary>
[GenerateSerializer, Immutable]
public sealed record PlacementDecision([property: Id(0)] string WorkerKey, [property: Id(1)] long Ticket);
