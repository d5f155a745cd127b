using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// The router's cluster-internal operations: workers report to it, hosts tell it a worker left, operators and
/// tests change its policy. Internal to the grains assembly (and its host and tests): clients, which see only
/// <see cref="IRouterGrain"/>, cannot feed it loads or clear reservations.
/// </summary>
internal interface IRouterControl : IGrainWithStringKey
{
    /// <summary>A worker's periodic load report (it also acknowledges the placement tickets it received).</summary>
    Task ReportLoad(WorkerLoad load);

    /// <summary>A worker leaves (draining, or its silo stopping): no more placements on it.</summary>
    Task Forget(string workerKey);

    /// <summary>Sets the placement policy by name: kv-aware, least-loaded, round-robin or prefix-aware.</summary>
    Task SetPolicy(string policy);

    /// <summary>Runs one rebalancing pass now (it also runs after reports); returns the requests moved.</summary>
    Task<int> Rebalance();
}
