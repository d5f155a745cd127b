using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Placement;

/// <summary>Places a worker grain on the silo its key names (the silo that owns the accelerator).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class WorkerPlacementStrategy : PlacementStrategy
{
    public static readonly WorkerPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class WorkerPlacementAttribute() : PlacementAttribute(WorkerPlacementStrategy.Instance);

/// <summary>
/// Resolves "{silo}|{device}|{model}" keys to that silo. When the silo is gone (stopped, or restarted with a new
/// generation) activation fails with a clear error; the caller then asks the router for another worker.
/// </summary>
public sealed class WorkerPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var (silo, device, _) = WorkerKeys.Parse(key);
        foreach (var candidate in context.GetCompatibleSilos(target))
        {
            if (candidate.ToParsableString() == silo) return Task.FromResult(candidate);
        }
        throw new OrleansException($"worker for device {device} cannot be placed: its silo {silo} is not in the cluster (stopped, or restarted under a new generation)");
    }
}
