namespace OrleansInfer.Grains.Telemetry;

/// <summary>
/// The names of the router's and workers' telemetry: one Meter and one ActivitySource named <see cref="SourceName"/>,
/// their instruments, spans and label keys. Hosts subscribe by these names (or the wildcard <c>OrleansInfer.*</c>).
/// </summary>
public static class ClusterTelemetryNames
{
    /// <summary>The Meter and the ActivitySource.</summary>
    public const string SourceName = "OrleansInfer.Cluster";

    /// <summary>Placements a router made (labels model, silo, policy).</summary>
    public const string Placements = "orleansinfer.router.placements";

    /// <summary>Placements a router refused (labels model, silo, reason: NoWorkers, NoCapacity, InvalidRequest).</summary>
    public const string Rejections = "orleansinfer.router.rejections";

    /// <summary>Waiting requests a router moved to another worker by rebalancing (labels model, silo).</summary>
    public const string Rebalances = "orleansinfer.router.rebalances";

    /// <summary>Requests that reached a worker with resume state: what they produced elsewhere (labels model, worker, silo, device).</summary>
    public const string Resumes = "orleansinfer.worker.resumes";

    /// <summary>1 while a worker's engine is healthy, 0 otherwise (labels model, worker, silo, device).</summary>
    public const string Healthy = "orleansinfer.worker.healthy";

    /// <summary>A router's placement of one request.</summary>
    public const string PlaceSpan = "orleansinfer.router.place";

    /// <summary>A worker serving one request (the engine's request span is its child).</summary>
    public const string GenerateSpan = "orleansinfer.worker.generate";

    public const string ModelLabel = "model";
    public const string WorkerLabel = "worker";
    public const string SiloLabel = "silo";
    public const string DeviceLabel = "device";
    public const string PolicyLabel = "policy";
    public const string ReasonLabel = "reason";

    /// <summary>Span attribute: the request carries what it produced elsewhere (after a failover or a move).</summary>
    public const string ResumedAttribute = "orleansinfer.resumed";

    /// <summary>Span attributes of the worker span.</summary>
    public const string RequestIdAttribute = "orleansinfer.request.id";
    public const string MovedToAttribute = "orleansinfer.moved_to";
}
