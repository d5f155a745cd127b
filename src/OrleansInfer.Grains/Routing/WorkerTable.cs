using Orleans.Runtime;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// The router's view of a model's workers, kept from their reports and checked against cluster membership: a
/// worker of a dead silo is evicted (and a late report from it ignored), a silent one stops getting placements
/// and is dropped later, a draining or unhealthy one stays visible but gets no placements. Also lets callers wait
/// a bounded time for live workers. Used only from the router's turns.
/// </summary>
internal sealed class WorkerTable(IClusterMembershipService? membership, RouterOptions options)
{
    private readonly Dictionary<string, WorkerView> _views = new(StringComparer.Ordinal);
    private readonly HashSet<string> _forgotten = new(StringComparer.Ordinal);
    private readonly List<(int Count, TaskCompletionSource<bool> Done)> _waiters = [];

    public int Count => _views.Count;

    /// <summary>Takes a report; returns the worker's view, or null when the report was ignored.</summary>
    public WorkerView? Update(WorkerLoad load, DateTime now)
    {
        if (_views.TryGetValue(load.WorkerKey, out var view))
        {
            view.Update(load, now, options.ReservationLifetime);
        }
        else
        {
            // A forgotten worker stays forgotten; a draining one is not (re-)added; a dead silo's late report is dropped.
            if (load.Draining || _forgotten.Contains(load.WorkerKey)) return null;
            view = new WorkerView(load, now);
            if (SiloIsDead(view)) return null;
            _views[load.WorkerKey] = view;
        }
        if (SiloIsDead(view))
        {
            _views.Remove(view.Key);
            return null;
        }
        ReleaseWaiters(now);
        return view;
    }

    public void Forget(string workerKey)
    {
        _views.Remove(workerKey);
        _forgotten.Add(workerKey);
    }

    /// <summary>Drops workers whose silo is dead and workers silent for longer than the eviction period.</summary>
    public void Evict(DateTime now)
    {
        foreach (var view in _views.Values.ToList())
        {
            if (SiloIsDead(view) || now - view.ReceivedAt > options.EvictAfter) _views.Remove(view.Key);
        }
    }

    /// <summary>Workers that may get placements now: fresh, healthy, not draining, on a silo that is not dead or stopping.</summary>
    public List<WorkerView> Live(DateTime now)
    {
        Evict(now);
        return _views.Values.Where(v => IsLive(v, now)).ToList();
    }

    /// <summary>Every worker still in the view (live or not), in key order.</summary>
    public List<WorkerView> Visible(DateTime now)
    {
        Evict(now);
        return _views.Values.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Completes with true once <paramref name="count"/> workers are live, or false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForLive(int count, TimeSpan timeout, DateTime now)
    {
        if (Live(now).Count >= count) return true;
        if (timeout <= TimeSpan.Zero) return false;
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((count, done));
        try
        {
            return await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            _waiters.RemoveAll(w => w.Done == done);
        }
    }

    private void ReleaseWaiters(DateTime now)
    {
        if (_waiters.Count == 0) return;
        var live = _views.Values.Count(v => IsLive(v, now));
        foreach (var (count, done) in _waiters.ToList())
        {
            if (live >= count) done.TrySetResult(true);
        }
    }

    private bool IsLive(WorkerView v, DateTime now) =>
        !v.Load.Draining && v.Load.Healthy && now - v.ReceivedAt <= options.StaleAfter && !SiloIsStopping(v);

    private bool SiloIsDead(WorkerView v) => Status(v) == SiloStatus.Dead;

    private bool SiloIsStopping(WorkerView v) => Status(v) is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping;

    private SiloStatus Status(WorkerView v) =>
        v.Silo is null || membership is null ? SiloStatus.Active : membership.CurrentSnapshot.GetSiloStatus(v.Silo);
}
