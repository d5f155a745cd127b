namespace OrleansInfer.Engine.Core;

/// <summary>
/// Whether an engine's steps succeed. It turns unhealthy after <see cref="EngineOptions.MaxConsecutiveFailures"/>
/// failed steps in a row and healthy again with the next step that computes tokens (steps that only send the runner
/// releases count neither way).
/// </summary>
/// <param name="IsHealthy">False once the failures in a row reached the limit.</param>
/// <param name="ConsecutiveFailures">Failed steps since the last successful one.</param>
/// <param name="Reason">Why, while any failure is counted (e.g. "3 consecutive failed steps; last: the model runner failed: ..."); else null.</param>
public sealed record EngineHealth(bool IsHealthy, int ConsecutiveFailures, string? Reason)
{
    /// <summary>No failed step since the last successful one.</summary>
    public static EngineHealth Healthy { get; } = new(true, 0, null);
}
