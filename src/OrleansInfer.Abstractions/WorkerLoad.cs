namespace OrleansInfer.Abstractions;

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
    /// <summary>Placement tickets the worker received recently: the router releases exactly those reservations.</summary>
    [Id(12)] public long[] AcknowledgedTickets { get; init; } = [];
    [Id(13)] public bool Draining { get; init; }
    [Id(14)] public int ContextLength { get; init; }
    [Id(15)] public long Sequence { get; init; }
    /// <summary>KV blocks the waiting requests' prompts will need when admitted.</summary>
    [Id(16)] public int QueuedBlocks { get; init; }
    /// <summary>Requests the worker's engine lets wait (its queue bound; 0 when unknown).</summary>
    [Id(17)] public int MaxQueue { get; init; }
    /// <summary>False after the engine failed several steps in a row: the router gives it no placements.</summary>
    [Id(18)] public bool Healthy { get; init; } = true;
    /// <summary>Why the worker is unhealthy.</summary>
    [Id(19)] public string? HealthReason { get; init; }

    public long FreeBytes => FreeBlocks * BytesPerBlock;
    public long TotalBytes => TotalBlocks * BytesPerBlock;
}

/// <summary>Where a model's router runs and what it sees.</summary>
[GenerateSerializer, Immutable]
public sealed record RouterStatus
{
    [Id(0)] public required string ModelId { get; init; }
    /// <summary>The silo hosting the router activation (its parsable address).</summary>
    [Id(1)] public required string Silo { get; init; }
    [Id(2)] public required string Policy { get; init; }
    [Id(3)] public WorkerLoad[] Workers { get; init; } = [];
}
