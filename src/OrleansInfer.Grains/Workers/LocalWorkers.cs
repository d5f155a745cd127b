using System.Collections.Concurrent;
using OrleansInfer.Grains.Telemetry;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// The state of this silo's workers, kept by the silo rather than by their grain activations: Orleans may deactivate
/// a worker's activation (its directory entry lived on a silo that died, memory pressure), and the next call activates
/// it again here with the same requests, tickets and drain flag. A worker's state is created once: its engine then
/// labels its telemetry with the worker's identity, and the health gauge reports it until the silo's services are disposed.
/// </summary>
public sealed class LocalWorkers : IDisposable
{
    private readonly ConcurrentDictionary<string, WorkerState> _states = new(StringComparer.Ordinal);
    private readonly Lock _creating = new();

    internal WorkerState For(string key, Func<WorkerState> create)
    {
        if (_states.TryGetValue(key, out var state)) return state;
        lock (_creating)
        {
            if (_states.TryGetValue(key, out state)) return state;
            state = create();
            state.Engine.TelemetryLabels = state.Engine.TelemetryLabels with { Model = state.ModelId, Worker = state.Key, Silo = state.Silo };
            ClusterInstruments.Register(state);
            _states[key] = state;
            return state;
        }
    }

    /// <summary>The health gauge stops reporting this silo's workers.</summary>
    public void Dispose()
    {
        foreach (var state in _states.Values) ClusterInstruments.Unregister(state);
    }
}
