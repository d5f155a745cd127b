using Microsoft.Extensions.Logging;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Catalog;
using OrleansInfer.Grains.Routing;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// A worker's load and health as the router sees them, pushed every report period (bounded: a router on a dead silo
/// must not stall the reports the router's next activation needs), and its registration in the model catalog.
/// </summary>
internal sealed class LoadReporter(WorkerState state, IWorkerEngines engines, IGrainFactory grains, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan ReportPeriod = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RegisterEvery = TimeSpan.FromSeconds(2);

    private DateTime _registeredAt;
    private bool _wasHealthy = true;

    public WorkerLoad Snapshot()
    {
        var engine = state.Engine;
        var load = engine.Load;
        var kv = load.KvCache;
        var health = engine.Health;
        if (health.IsHealthy != _wasHealthy)
        {
            _wasHealthy = health.IsHealthy;
            if (health.IsHealthy) logger.LogWarning("worker {Worker} is healthy again", state.Key);
            else logger.LogError("worker {Worker} is unhealthy and gets no placements: {Reason}", state.Key, health.Reason);
        }
        return new WorkerLoad
        {
            WorkerKey = state.Key,
            ModelId = state.ModelId,
            Device = engines.Describe(state.Device),
            BlockSize = kv.BlockSize,
            TotalBlocks = kv.TotalBlocks,
            FreeBlocks = kv.FreeBlocks,
            CachedBlocks = kv.CachedBlocks,
            BytesPerBlock = kv.BytesPerBlock,
            RunningRequests = load.RunningRequests,
            WaitingRequests = load.WaitingRequests,
            QueuedBlocks = load.WaitingBlocks,
            MaxQueue = engine.MaxWaitingRequests,
            TokensPerSecond = load.TokensPerSecond,
            PrefixHashes = load.PrefixHashes,
            AcknowledgedTickets = state.Tickets.Recent(time.GetUtcNow().UtcDateTime),
            Draining = state.Draining,
            ContextLength = engine.Config.ContextLength,
            Sequence = ++state.ReportSequence,
            Healthy = health.IsHealthy,
            HealthReason = health.Reason,
        };
    }

    public async Task ReportAsync()
    {
        try
        {
            await grains.GetGrain<IRouterControl>(state.ModelId).ReportLoad(Snapshot()).WaitAsync(CallTimeout);
            var now = time.GetUtcNow().UtcDateTime;
            if (now - _registeredAt >= RegisterEvery)
            {
                await grains.GetGrain<ICatalogRegistry>(0).Register(state.ModelId, state.Key).WaitAsync(CallTimeout);
                _registeredAt = now;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The router may be re-activating after a failure; the next report will reach it.
            logger.LogDebug(e, "load report of {Worker} failed", state.Key);
        }
    }
}
