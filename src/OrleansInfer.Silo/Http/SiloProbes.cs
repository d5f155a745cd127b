using OrleansInfer.Abstractions;

namespace OrleansInfer.Silo.Http;

/// <summary>A probe's answer: 200 or 503 and a small JSON body (<c>{"status": ..., "reason": ...}</c>).</summary>
public sealed record ProbeResult(int StatusCode, ProbeBody Body);

/// <param name="Status">healthy | unhealthy (/health); ready | loading | draining | unhealthy (/ready).</param>
/// <param name="Reason">Why not, when it is not (the failing workers and their engines' reasons).</param>
public sealed record ProbeBody(string Status, string? Reason = null);

/// <summary>The silo's workers as <c>/status</c> shows them.</summary>
/// <param name="Status">As /ready says it: ready, loading, draining or unhealthy.</param>
/// <param name="Silo">The silo's address (ip:port@generation).</param>
/// <param name="Model">The model id served; null while loading.</param>
/// <param name="Workers">The local workers, in device order; empty while loading.</param>
public sealed record SiloStatusReport(string Status, string Silo, string? Model, IReadOnlyList<WorkerStatus> Workers);

/// <summary>One local worker: its key, device, KV pool, requests and health as of its engine's latest step.</summary>
public sealed record WorkerStatus(string Key, int Ordinal, string Device, string Model, KvStatus Kv, int Running, int Waiting, double TokensPerSecond, bool Healthy, string? Reason);

/// <summary>A worker's KV pool in blocks; <see cref="Usage"/> = used / total.</summary>
public sealed record KvStatus(int BlockSize, int TotalBlocks, int UsedBlocks, int FreeBlocks, int CachedBlocks, double Usage);

/// <summary>What /health, /ready and /status answer, from <see cref="SiloReadiness"/> (no HTTP here).</summary>
public static class SiloProbes
{
    public const int Ok = 200;
    public const int Unavailable = 503;

    /// <summary>Liveness: 200 unless a local engine is unhealthy (failed steps in a row) or the workers failed to start.</summary>
    public static ProbeResult Health(SiloReadiness readiness, string silo)
    {
        if (Unhealthy(readiness, silo) is { } reason) return new(Unavailable, new("unhealthy", reason));
        return new(Ok, new("healthy"));
    }

    /// <summary>Readiness: 200 once every local worker runs and is registered, while none is unhealthy and the silo is not draining.</summary>
    public static ProbeResult Ready(SiloReadiness readiness, string silo)
    {
        switch (readiness.State)
        {
            case SiloState.Loading: return new(Unavailable, new("loading"));
            case SiloState.Draining: return new(Unavailable, new("draining"));
        }
        if (Unhealthy(readiness, silo) is { } reason) return new(Unavailable, new("unhealthy", reason));
        return new(Ok, new("ready"));
    }

    public static SiloStatusReport Status(SiloReadiness readiness, string silo)
    {
        var status = Ready(readiness, silo).Body.Status;
        if (readiness.Engines is not { } engines) return new(status, silo, null, []);
        var workers = engines.Devices.Select(device =>
        {
            var engine = engines.Get(device);
            var load = engine.Load;
            var kv = load.KvCache;
            var health = engine.Health;
            return new WorkerStatus(
                WorkerKeys.Format(silo, device, engines.ModelId), device, engine.DeviceName, engines.ModelId,
                new KvStatus(kv.BlockSize, kv.TotalBlocks, kv.UsedBlocks, kv.FreeBlocks, kv.CachedBlocks, kv.TotalBlocks == 0 ? 0 : (double)kv.UsedBlocks / kv.TotalBlocks),
                load.RunningRequests, load.WaitingRequests, load.TokensPerSecond, health.IsHealthy, health.Reason);
        }).ToList();
        return new(status, silo, engines.ModelId, workers);
    }

    private static string? Unhealthy(SiloReadiness readiness, string silo)
    {
        if (readiness.State == SiloState.Failed) return $"the workers failed to start: {readiness.Failure}";
        var unhealthy = readiness.UnhealthyEngines();
        if (unhealthy.Count == 0) return null;
        var model = readiness.Engines!.ModelId;
        return string.Join("; ", unhealthy.Select(u => $"worker {WorkerKeys.Format(silo, u.Device, model)}: {u.Reason}"));
    }
}
