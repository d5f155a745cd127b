namespace OrleansInfer.Grains.Routing;

/// <summary>How the routers of this cluster behave (from the silo's configuration).</summary>
public sealed record RouterOptions
{
    /// <summary>The placement policy a new router starts with: kv-aware, least-loaded, round-robin or prefix-aware.</summary>
    public string Policy { get; init; } = PlacementPolicies.KvAware;

    /// <summary>How long a placement waits for a live worker (a new router activation, a cluster starting) before NoWorkers.</summary>
    public TimeSpan PlacementWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A worker silent for this long gets no placements (it reports every 250 ms).</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A worker silent for this long is dropped from the view (its silo's death evicts it at once).</summary>
    public TimeSpan EvictAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a placement holds its blocks on the chosen worker until the worker acknowledges its ticket.</summary>
    public TimeSpan ReservationLifetime { get; init; } = TimeSpan.FromSeconds(2);
}
