using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// Places a model's requests on its workers from the load they push (no remote call while placing), rejects what
/// no worker can take, and moves waiting work from a worker short of KV to one with room. Reentrant: every
/// method changes state before its first await, so interleaving is safe.
/// </summary>
[Reentrant]
public sealed class RouterGrain(ILogger<RouterGrain> logger) : Grain, IRouterGrain
{
    /// <summary>A worker silent for this long is considered gone.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(2);

    /// <summary>Requests a worker may queue (waiting plus in flight) when it has no KV room, unless it reports its own bound.</summary>
    public const int DefaultMaxQueuePerWorker = 16;

    private static readonly TimeSpan RebalanceEvery = TimeSpan.FromMilliseconds(300);

    private readonly Dictionary<string, WorkerView> _workers = new(StringComparer.Ordinal);
    private readonly List<(int Count, TaskCompletionSource<bool> Done)> _waiters = [];
    private IPlacementPolicy _policy = new KvAwarePolicy();
    private long _nextTicket;
    private DateTime _lastRebalance;
    private bool _rebalancing;

    private static DateTime Now => DateTime.UtcNow;

    public Task<PlacementDecision> Place(PlacementRequest request)
    {
        var now = Now;
        var candidates = _workers.Values
            .Where(w => !w.Load.Draining && now - w.ReceivedAt <= StaleAfter && !request.Exclude.Contains(w.Key))
            .ToList();
        if (candidates.Count == 0)
            throw new ClusterRejectedException(ClusterRejection.NoWorkers, $"no live worker serves model '{this.GetPrimaryKeyString()}'");
        var tokens = request.PromptTokens.Length + request.ResumedTokens;
        candidates.RemoveAll(w => tokens >= w.Load.ContextLength);
        if (candidates.Count == 0)
            throw new ClusterRejectedException(ClusterRejection.InvalidRequest, $"{tokens} tokens do not fit the context of any worker");

        var fits = candidates.Where(w => w.EffectiveFreeBlocks >= w.BlocksNeeded(request)).ToList();
        WorkerView chosen;
        if (fits.Count > 0)
        {
            chosen = _policy.Choose(fits, request);
        }
        else
        {
            // No room anywhere now: queue where the queue is shortest, within a bound; beyond it, refuse.
            var queueable = candidates.Where(w => w.Queue < QueueLimit(w) && w.BlocksNeeded(request) <= w.Load.TotalBlocks).ToList();
            if (queueable.Count == 0)
                throw new ClusterRejectedException(ClusterRejection.NoCapacity,
                    $"the cluster is full: none of {candidates.Count} worker(s) has KV room for {request.PromptTokens.Length} prompt + {request.MaxTokens} new tokens, and their queues are full");
            chosen = queueable.OrderBy(w => w.Queue).ThenByDescending(w => w.EffectiveFreeBlocks).ThenBy(w => w.Key, StringComparer.Ordinal).First();
        }

        var ticket = ++_nextTicket;
        chosen.Reserve(ticket, chosen.BlocksNeeded(request), now);
        return Task.FromResult(new PlacementDecision(chosen.Key, ticket));
    }

    public Task ReportLoad(WorkerLoad load)
    {
        var now = Now;
        if (_workers.TryGetValue(load.WorkerKey, out var view)) view.Update(load, now);
        else if (!load.Draining) _workers[load.WorkerKey] = new WorkerView(load, now); // a forgotten worker stays forgotten
        else return Task.CompletedTask;

        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (LiveCount(now) < _waiters[i].Count) continue;
            _waiters[i].Done.TrySetResult(true);
            _waiters.RemoveAt(i);
        }

        if (load.WaitingRequests > 0 && now - _lastRebalance >= RebalanceEvery && !_rebalancing)
        {
            _lastRebalance = now;
            _ = RebalanceQuietly();
        }
        return Task.CompletedTask;
    }

    public Task Forget(string workerKey)
    {
        _workers.Remove(workerKey);
        return Task.CompletedTask;
    }

    public Task<WorkerLoad[]> GetWorkers() =>
        Task.FromResult(_workers.Values.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => w.Load).ToArray());

    public Task SetPolicy(string policy)
    {
        _policy = PlacementPolicies.Create(policy);
        return Task.CompletedTask;
    }

    public async Task<bool> WaitForWorkers(int count, TimeSpan timeout)
    {
        if (LiveCount(Now) >= count) return true;
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((count, done));
        var finished = await Task.WhenAny(done.Task, Task.Delay(timeout));
        if (finished == done.Task) return true;
        _waiters.RemoveAll(w => w.Done == done);
        return false;
    }

    /// <summary>
    /// Moves waiting requests from workers that cannot admit them (their free KV does not cover their queue) to
    /// the worker with the most room and an empty queue. The callers resume the moved requests there.
    /// </summary>
    public async Task<int> Rebalance()
    {
        var now = Now;
        var live = _workers.Values.Where(w => !w.Load.Draining && now - w.ReceivedAt <= StaleAfter).ToList();
        var moves = new List<(WorkerView From, WorkerView To, int Count)>();
        foreach (var from in live.Where(w => w.Load.WaitingRequests > 0 && w.Load.FreeBlocks < w.Load.QueuedBlocks).OrderByDescending(w => w.Load.WaitingRequests))
        {
            var to = live.Where(w => w != from && w.Queue == 0 && w.EffectiveFreeBlocks > 0).OrderByDescending(w => w.EffectiveFreeBlocks).FirstOrDefault();
            if (to is null) break;
            var perRequest = Math.Max(1, from.Load.QueuedBlocks / Math.Max(1, from.Load.WaitingRequests));
            var count = Math.Min(from.Load.WaitingRequests, Math.Max(1, to.EffectiveFreeBlocks / perRequest));
            to.Reserve(0, count * perRequest, now);
            moves.Add((from, to, count));
        }

        var moved = 0;
        foreach (var (from, to, count) in moves)
        {
            moved += await GrainFactory.GetGrain<IWorkerGrain>(from.Key).MoveWaiting(to.Key, count);
        }
        return moved;
    }

    private async Task RebalanceQuietly()
    {
        _rebalancing = true;
        try
        {
            await Rebalance();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "rebalancing of model {Model} failed", this.GetPrimaryKeyString());
        }
        finally
        {
            _rebalancing = false;
        }
    }

    private static int QueueLimit(WorkerView w) => w.Load.MaxQueue > 0 ? w.Load.MaxQueue : DefaultMaxQueuePerWorker;

    private int LiveCount(DateTime now) => _workers.Values.Count(w => now - w.ReceivedAt <= StaleAfter);
}
