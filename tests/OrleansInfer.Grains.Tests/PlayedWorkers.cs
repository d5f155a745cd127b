using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Tests;

/// <summary>Load reports of workers a test plays by hand (their keys name no silo), for routers fed exact numbers.</summary>
public static class PlayedWorkers
{
    private static long _sequence;

    public static WorkerLoad Load(string key, int total, int free, int running = 0, int waiting = 0, int queued = 0, ulong[]? prefixes = null,
        bool draining = false, bool healthy = true, string? healthReason = null, long[]? acknowledged = null) => new()
    {
        WorkerKey = key,
        ModelId = "m",
        BlockSize = 16,
        TotalBlocks = total,
        FreeBlocks = free,
        BytesPerBlock = 1024,
        RunningRequests = running,
        WaitingRequests = waiting,
        QueuedBlocks = queued,
        PrefixHashes = prefixes ?? [],
        ContextLength = 512,
        Draining = draining,
        Healthy = healthy,
        HealthReason = healthReason,
        AcknowledgedTickets = acknowledged ?? [],
        Sequence = Interlocked.Increment(ref _sequence),
    };
}
