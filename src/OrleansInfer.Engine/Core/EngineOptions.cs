using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Engine.Telemetry;

namespace OrleansInfer.Engine.Core;

/// <summary>Scheduler limits, queue bounds and health threshold of one engine (the runner's own sizes bound the limits).</summary>
public sealed record EngineOptions
{
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Seed of requests that give none (null: a random seed per request).</summary>
    public ulong? DefaultSeed { get; init; }

    /// <summary>Failed steps in a row after which the engine reports itself unhealthy (<see cref="LlmEngine.Health"/>).</summary>
    public int MaxConsecutiveFailures { get; init; } = 3;

    /// <summary>The labels of the engine's metrics and spans (model, worker, silo; the device defaults to the runner's).</summary>
    public TelemetryLabels TelemetryLabels { get; init; } = new();

    public void Validate()
    {
        Scheduler.Validate();
        if (MaxConsecutiveFailures < 1) throw new ArgumentOutOfRangeException(nameof(MaxConsecutiveFailures), MaxConsecutiveFailures, "must be at least 1");
    }
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
