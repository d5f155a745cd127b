namespace OrleansInfer.Abstractions;

/// <summary>
/// Places requests on workers for one model (the key is the model id). Workers push their load every few hundred
/// milliseconds, so placing calls no one. The router keeps no durable state: a new activation (its silo died)
/// rebuilds its view from the model catalog and the workers' reports, and placement waits a bounded time for a
/// live worker before refusing. Workers of dead silos, draining or unhealthy workers get no placements.
/// </summary>
public interface IRouterGrain : IGrainWithStringKey
{
    /// <summary>Chooses a worker for the request and reserves room for it there.</summary>
    /// <exception cref="ClusterRejectedException">No live worker (after the bounded wait), none has room, or the request cannot fit any.</exception>
    Task<PlacementDecision> Place(PlacementRequest request);

    /// <summary>The router's current view of the live workers, by key.</summary>
    Task<WorkerLoad[]> GetWorkers();

    /// <summary>Where the router runs, its policy and its view of the workers (operators, drills).</summary>
    Task<RouterStatus> GetStatus();

    /// <summary>Completes when at least <paramref name="count"/> live workers have reported (false on timeout).</summary>
    Task<bool> WaitForWorkers(int count, TimeSpan timeout);
}

/// <summary>The models a cluster serves (a single activation, key 0), refilled by the workers' reports after a failure.</summary>
public interface IModelCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>The model ids workers have registered, in order.</summary>
    Task<string[]> List();
}
