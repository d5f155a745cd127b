using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>Scheduler limits and queue bounds of one engine (the runner's own sizes bound them).</summary>
public sealed record EngineOptions
{
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Seed of requests that give none (null: a random seed per request).</summary>
    public ulong? DefaultSeed { get; init; }
}

/// <summary>What one engine step did, for telemetry and benchmarks.</summary>
public sealed record EngineStepStats(
    long Step,
    int ScheduledSequences,
    int ScheduledTokens,
    int PrefillTokens,
    int DecodeTokens,
    int RunningRequests,
    int WaitingRequests,
    int Preemptions,
    int UsedBlocks,
    int FreeBlocks,
    int CachedBlocks,
    long TokensInKv,
    long AllocatedSlots,
    double StepMilliseconds);

/// <summary>The KV pool's state: what the router of a cluster places work by.</summary>
public sealed record KvCacheStats(int BlockSize, int TotalBlocks, int FreeBlocks, int CachedBlocks, long BytesPerBlock)
{
    public int UsedBlocks => TotalBlocks - FreeBlocks;
    public long TotalBytes => TotalBlocks * BytesPerBlock;
    public long FreeBytes => FreeBlocks * BytesPerBlock;
}
