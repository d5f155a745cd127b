using System.Collections.Concurrent;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// The state of this silo's workers, kept by the silo rather than by their grain activations: Orleans may deactivate
/// a worker's activation (its directory entry lived on a silo that died, memory pressure), and the next call activates
/// it again here with the same requests, tickets and drain flag.
/// </summary>
public sealed class LocalWorkers
{
    private readonly ConcurrentDictionary<string, WorkerState> _states = new(StringComparer.Ordinal);

    internal WorkerState For(string key, Func<WorkerState> create) => _states.GetOrAdd(key, _ => create());
}
