using OrleansInfer.Grains.Workers;

namespace OrleansInfer.Silo.Http;

/// <summary>Where a silo is in its life, as its probes report it.</summary>
public enum SiloState
{
    /// <summary>The model is loading or the workers are not yet registered with their router.</summary>
    Loading,

    /// <summary>Every local worker accepts work (<see cref="SiloReady.Workers"/> completed).</summary>
    Ready,

    /// <summary>The silo is stopping: its workers take no new requests and drain.</summary>
    Draining,

    /// <summary>The workers failed to start.</summary>
    Failed,
}

/// <summary>
/// A silo's readiness for its probes: loading → ready (<see cref="SiloReady.Workers"/> completed) → draining (the host
/// began to stop, or <see cref="WorkerLifecycle"/> began its drain), and the health of the local engines once they
/// are loaded. Read without locks from the HTTP threads: it never resolves the engines itself (that would load the model).
/// </summary>
public sealed class SiloReadiness(SiloReady ready)
{
    private volatile IWorkerEngines? _engines;
    private volatile bool _draining;

    /// <summary>The local engines, once loaded; null while the model loads.</summary>
    public IWorkerEngines? Engines => _engines;

    public SiloState State
    {
        get
        {
            if (_draining) return SiloState.Draining;
            var workers = ready.Workers;
            if (workers.IsFaulted || workers.IsCanceled) return SiloState.Failed;
            return workers.IsCompletedSuccessfully ? SiloState.Ready : SiloState.Loading;
        }
    }

    /// <summary>Why the workers failed to start (<see cref="SiloState.Failed"/>), else null.</summary>
    public string? Failure => ready.Workers.Exception?.InnerException?.Message ?? (ready.Workers.IsCanceled ? "the start was cancelled" : null);

    /// <summary>The local workers whose engine is unhealthy (device and reason); empty while loading.</summary>
    public IReadOnlyList<(int Device, string Reason)> UnhealthyEngines()
    {
        if (_engines is not { } engines) return [];
        var unhealthy = new List<(int, string)>();
        foreach (var device in engines.Devices)
        {
            var health = engines.Get(device).Health;
            if (!health.IsHealthy) unhealthy.Add((device, health.Reason ?? "unhealthy"));
        }
        return unhealthy;
    }

    internal void EnginesLoaded(IWorkerEngines engines) => _engines = engines;

    internal void BeginDraining() => _draining = true;
}
