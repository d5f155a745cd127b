using Orleans.Runtime;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Catalog;

/// <summary>
/// The models and workers the cluster serves; in memory, refilled by the workers' periodic registrations after its
/// activation moved or its silo died. Workers of dead silos are dropped as they are read.
/// </summary>
public sealed class ModelCatalogGrain(IClusterMembershipService membership) : Grain, IModelCatalogGrain, ICatalogRegistry
{
    private readonly SortedDictionary<string, SortedSet<string>> _workers = new(StringComparer.Ordinal);

    public Task Register(string modelId, string workerKey)
    {
        if (!_workers.TryGetValue(modelId, out var set)) _workers[modelId] = set = new SortedSet<string>(StringComparer.Ordinal);
        set.Add(workerKey);
        return Task.CompletedTask;
    }

    public Task<string[]> List() => Task.FromResult(_workers.Keys.ToArray());

    public Task<string[]> WorkersOf(string modelId)
    {
        if (!_workers.TryGetValue(modelId, out var set)) return Task.FromResult<string[]>([]);
        set.RemoveWhere(IsOnDeadSilo);
        return Task.FromResult(set.ToArray());
    }

    private bool IsOnDeadSilo(string workerKey) =>
        Routing.WorkerView.SiloOf(workerKey) is { } silo && membership.CurrentSnapshot.GetSiloStatus(silo) == SiloStatus.Dead;
}
