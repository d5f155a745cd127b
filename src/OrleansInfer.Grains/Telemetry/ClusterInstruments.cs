using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Workers;
using static OrleansInfer.Grains.Telemetry.ClusterTelemetryNames;

namespace OrleansInfer.Grains.Telemetry;

/// <summary>
/// The process's one cluster Meter and ActivitySource (shared by every silo in the process, as in-process test clusters
/// and <c>serve</c> run several), their instruments, and the workers the health gauge reads: registered by
/// <see cref="LocalWorkers"/>, held weakly, unregistered when their silo's services are disposed.
/// </summary>
internal static class ClusterInstruments
{
    private static readonly Lock RegistryLock = new();
    private static readonly List<WeakReference<WorkerState>> Workers = [];

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(SourceName);

    private static readonly Counter<long> PlacementCounter = Meter.CreateCounter<long>(Placements, "{request}", "Requests a router placed, by policy");
    private static readonly Counter<long> RejectionCounter = Meter.CreateCounter<long>(Rejections, "{request}", "Requests a router refused, by reason");
    private static readonly Counter<long> RebalanceCounter = Meter.CreateCounter<long>(Rebalances, "{request}", "Waiting requests a router moved to another worker");
    private static readonly Counter<long> ResumeCounter = Meter.CreateCounter<long>(Resumes, "{request}", "Requests that reached a worker with what they produced elsewhere");

    static ClusterInstruments()
    {
        Meter.CreateObservableGauge(Healthy, ObserveHealth, "1", "1 while the worker's engine is healthy, else 0");
    }

    public static void Placed(string model, string silo, string policy) =>
        PlacementCounter.Add(1, new(ModelLabel, model), new(SiloLabel, silo), new(PolicyLabel, policy));

    public static void Rejected(string model, string silo, ClusterRejection reason) =>
        RejectionCounter.Add(1, new(ModelLabel, model), new(SiloLabel, silo), new(ReasonLabel, reason.ToString()));

    public static void Rebalanced(string model, string silo, int moved)
    {
        if (moved > 0) RebalanceCounter.Add(moved, new(ModelLabel, model), new(SiloLabel, silo));
    }

    public static void Resumed(WorkerState worker) => ResumeCounter.Add(1, worker.Labels);

    public static void Register(WorkerState worker)
    {
        lock (RegistryLock) Workers.Add(new WeakReference<WorkerState>(worker));
    }

    public static void Unregister(WorkerState worker)
    {
        lock (RegistryLock) Workers.RemoveAll(w => !w.TryGetTarget(out var s) || ReferenceEquals(s, worker));
    }

    private static List<Measurement<int>> ObserveHealth()
    {
        var list = new List<Measurement<int>>();
        lock (RegistryLock)
        {
            Workers.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (var w in Workers)
            {
                // Health is published by the engine for any thread to read.
                if (w.TryGetTarget(out var s)) list.Add(new Measurement<int>(s.Engine.Health.IsHealthy ? 1 : 0, s.Labels));
            }
        }
        return list;
    }
}
