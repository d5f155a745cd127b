using OrleansInfer.Grains.Workers;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// Moves waiting requests from workers that cannot admit them (their free KV does not cover their queue) to the
/// live worker with the most room and an empty queue; the callers resume the moved requests there.
/// </summary>
internal static class Rebalancer
{
    /// <summary>Plans the moves on the live workers (reserving room on the targets) and asks the sources to hand off.</summary>
    public static async Task<int> RunAsync(IGrainFactory grains, List<WorkerView> live, DateTime now)
    {
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
        foreach (var (from, to, count) in moves) moved += await grains.GetGrain<IWorkerControl>(from.Key).MoveWaiting(to.Key, count);
        return moved;
    }
}
