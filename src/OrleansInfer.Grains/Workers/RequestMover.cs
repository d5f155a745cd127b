using Microsoft.Extensions.Logging;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Workers;

/// <summary>Hands a worker's requests to other workers: waiting ones when the router rebalances, all of them when the worker drains.</summary>
internal sealed class RequestMover(WorkerState state, IGrainFactory grains, Func<Task> reportNow, ILogger logger)
{
    public int MoveWaiting(string targetWorker, int maxCount)
    {
        if (targetWorker == state.Key) return 0;
        var moved = 0;
        foreach (var a in state.Requests.All.ToList())
        {
            if (moved >= maxCount) break;
            if (a.Stream.IsWaiting && a.MoveTo(targetWorker)) moved++;
        }
        if (moved > 0) logger.LogInformation("{Worker} moved {Count} waiting request(s) to {Target}", state.Key, moved, targetWorker);
        return moved;
    }

    public bool MoveRequest(string requestId, string targetWorker) =>
        targetWorker != state.Key && state.Requests.Find(requestId) is { } a && a.MoveTo(targetWorker);

    public async Task<int> DrainAsync(TimeSpan timeout)
    {
        state.Draining = true;
        await reportNow();
        var moved = await MoveElsewhere(waitingOnly: true);
        if (!await WaitForIdle(timeout)) moved += await MoveElsewhere(waitingOnly: false);
        logger.LogInformation("{Worker} drained: {Moved} request(s) moved, {Left} still running", state.Key, moved, state.Requests.Count);
        return moved;
    }

    public async Task<bool> WaitForIdle(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await state.Engine.WhenIdleAsync(cts.Token);
    }

    /// <summary>Places requests of this worker on others through the router and hands them off.</summary>
    private async Task<int> MoveElsewhere(bool waitingOnly)
    {
        var router = grains.GetGrain<IRouterGrain>(state.ModelId);
        var moved = 0;
        foreach (var a in state.Requests.All.ToList())
        {
            if ((waitingOnly && !a.Stream.IsWaiting) || !a.CanMove) continue;
            try
            {
                var placement = await router.Place(new PlacementRequest
                {
                    PromptTokens = a.Request.PromptTokens,
                    MaxTokens = a.Request.Sampling.MaxTokens,
                    Width = a.Request.Sampling.Width,
                    Exclude = [state.Key],
                });
                if (a.MoveTo(placement.WorkerKey)) moved++;
            }
            catch (ClusterRejectedException)
            {
                // Nowhere to go: it stays and runs here.
            }
        }
        return moved;
    }
}
