namespace OrleansInfer.Engine.Core;

/// <summary>
/// Whether an engine holds any request: one count of submitted, unfinished requests, changed together with the
/// signal under one lock (0 → 1 resets it, 1 → 0 completes it), so a submission can never be missed.
/// </summary>
internal sealed class IdleSignal
{
    private readonly object _lock = new();
    private int _active;
    private TaskCompletionSource _idle = Completed();

    /// <summary>Submitted requests whose streams have not ended.</summary>
    public int Active
    {
        get
        {
            lock (_lock) return _active;
        }
    }

    /// <summary>Completes once no request is left (at once when none is).</summary>
    public Task WhenIdle
    {
        get
        {
            lock (_lock) return _idle.Task;
        }
    }

    /// <summary>A request was submitted (before the engine can see it).</summary>
    public void Begin()
    {
        lock (_lock)
        {
            if (_active++ == 0) _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>A request's stream ended.</summary>
    public void End()
    {
        lock (_lock)
        {
            if (_active == 0) throw new InvalidOperationException("a request ended that was never counted");
            if (--_active == 0) _idle.TrySetResult();
        }
    }

    private static TaskCompletionSource Completed()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }
}
