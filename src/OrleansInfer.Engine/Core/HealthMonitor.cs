namespace OrleansInfer.Engine.Core;

/// <summary>Counts failed steps in a row; written by the engine thread, read from any thread.</summary>
internal sealed class HealthMonitor(int maxConsecutiveFailures)
{
    private volatile EngineHealth _current = EngineHealth.Healthy;

    public EngineHealth Current => _current;

    /// <summary>A step computed tokens: the engine works.</summary>
    public void Succeeded()
    {
        if (_current.ConsecutiveFailures != 0) _current = EngineHealth.Healthy;
    }

    /// <summary>A step failed; <paramref name="what"/> says how.</summary>
    public void Failed(string what)
    {
        var n = _current.ConsecutiveFailures + 1;
        _current = new EngineHealth(n < maxConsecutiveFailures, n, $"{n} consecutive failed step{(n == 1 ? "" : "s")}; last: {what}");
    }
}
