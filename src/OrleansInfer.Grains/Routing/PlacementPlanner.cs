using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// Admission control over the live workers: the policy chooses among those with KV room for the request; without
/// room anywhere the shortest queue takes it within its bound; beyond that the cluster refuses at once.
/// </summary>
internal static class PlacementPlanner
{
    /// <summary>Requests a worker may queue (waiting plus in flight) when it has no KV room, unless it reports its own bound.</summary>
    public const int DefaultMaxQueuePerWorker = 16;

    /// <exception cref="ClusterRejectedException">InvalidRequest (fits no worker's context) or NoCapacity.</exception>
    public static WorkerView Choose(List<WorkerView> candidates, PlacementRequest request, IPlacementPolicy policy)
    {
        var tokens = request.PromptTokens.Length + request.ResumedTokens;
        var fitting = candidates.Where(w => tokens < w.Load.ContextLength).ToList();
        if (fitting.Count == 0)
            throw new ClusterRejectedException(ClusterRejection.InvalidRequest, $"{tokens} tokens do not fit the context of any worker");

        var withRoom = fitting.Where(w => w.EffectiveFreeBlocks >= w.BlocksNeeded(request)).ToList();
        if (withRoom.Count > 0) return policy.Choose(withRoom, request);

        var queueable = fitting.Where(w => w.Queue < QueueLimit(w) && w.BlocksNeeded(request) <= w.Load.TotalBlocks).ToList();
        if (queueable.Count == 0)
            throw new ClusterRejectedException(ClusterRejection.NoCapacity,
                $"the cluster is full: none of {fitting.Count} worker(s) has KV room for {request.PromptTokens.Length} prompt + {request.MaxTokens} new tokens, and their queues are full");
        return queueable.OrderBy(w => w.Queue).ThenByDescending(w => w.EffectiveFreeBlocks).ThenBy(w => w.Key, StringComparer.Ordinal).First();
    }

    private static int QueueLimit(WorkerView w) => w.Load.MaxQueue > 0 ? w.Load.MaxQueue : DefaultMaxQueuePerWorker;
}
