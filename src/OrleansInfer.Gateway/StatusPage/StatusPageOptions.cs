namespace OrleansInfer.Gateway.StatusPage;

/// <summary>The status page's timing: how often throughput is sampled and for how long it is kept, how often the event stream pushes.</summary>
public sealed record StatusPageOptions
{
    /// <summary>Between two throughput samples.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How much throughput history the page shows.</summary>
    public TimeSpan HistoryWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Between two events on /status/events.</summary>
    public TimeSpan PushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest one read of the workers may take before the page shows the cluster as unreachable.</summary>
    public TimeSpan ClusterReadTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
