using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Catalog;
using OrleansInfer.Grains.Telemetry;
using OrleansInfer.Grains.Workers;

namespace OrleansInfer.Grains.Routing;

/// <summary>
/// Places a model's requests on its workers from the load they push (no remote call while placing), refuses what no
/// worker can take, and moves waiting work from a worker short of KV to one with room. It holds no durable state: a
/// new activation (its silo died) rebuilds its view from the catalog's workers at once and from their reports within
/// a report period, and a placement waits a bounded time for a live worker before refusing. Reentrant: every method
/// changes state between awaits only.
/// </summary>
[Reentrant]
public sealed class RouterGrain(IClusterMembershipService membership, ILocalSiloDetails silo, RouterOptions options, TimeProvider time, ILogger<RouterGrain> logger)
    : Grain, IRouterGrain, IRouterControl
{
    private static readonly TimeSpan RebalanceEvery = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan RebuildCallTimeout = TimeSpan.FromSeconds(2);

    private readonly WorkerTable _table = new(membership, options);
    private IPlacementPolicy _policy = PlacementPolicies.Create(options.Policy);
    private DateTime _lastRebalance;
    private bool _rebalancing;

    private string ModelId => this.GetPrimaryKeyString();

    /// <summary>This silo's address: the <c>silo</c> label of the router's metrics.</summary>
    private string SiloLabel => field ??= silo.SiloAddress.ToParsableString();

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(static (self, _) => self.EvictQuietly(), this,
            new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { Interleave = true });
        // Not awaited: placements already wait for live workers, and the catalog may sit on a dead silo for a while.
        _ = RebuildFromCatalog();
        return Task.CompletedTask;
    }

    public async Task<PlacementDecision> Place(PlacementRequest request)
    {
        var policy = _policy;
        using var span = ClusterSpans.StartPlace(ModelId, SiloLabel, policy.Name, request);
        try
        {
            var candidates = Candidates(request);
            if (candidates.Count == 0 && _table.Live(Now).Count == 0 && await _table.WaitForLive(1, options.PlacementWait, Now))
                candidates = Candidates(request);
            if (candidates.Count == 0)
            {
                var live = _table.Live(Now).Count;
                throw new ClusterRejectedException(ClusterRejection.NoWorkers, live == 0
                    ? $"no live worker serves model '{ModelId}' (waited {options.PlacementWait.TotalSeconds:0.#} s)"
                    : $"all {live} live worker(s) of model '{ModelId}' are excluded by the request");
            }

            var chosen = PlacementPlanner.Choose(candidates, request, policy);
            var ticket = Random.Shared.NextInt64(1, long.MaxValue);
            chosen.Reserve(ticket, chosen.BlocksNeeded(request), Now);
            ClusterInstruments.Placed(ModelId, SiloLabel, policy.Name);
            span?.SetTag(ClusterTelemetryNames.WorkerLabel, chosen.Key);
            return new PlacementDecision(chosen.Key, ticket);
        }
        catch (ClusterRejectedException e)
        {
            ClusterInstruments.Rejected(ModelId, SiloLabel, e.Reason);
            ClusterSpans.Fail(span, e);
            throw;
        }
    }

    private List<WorkerView> Candidates(PlacementRequest request) =>
        _table.Live(Now).Where(w => Array.IndexOf(request.Exclude, w.Key) < 0).ToList();

    public Task ReportLoad(WorkerLoad load)
    {
        var now = Now;
        var view = _table.Update(load, now);
        if (view is not null && load.WaitingRequests > 0 && now - _lastRebalance >= RebalanceEvery && !_rebalancing)
        {
            _lastRebalance = now;
            _ = RebalanceQuietly();
        }
        return Task.CompletedTask;
    }

    public Task Forget(string workerKey)
    {
        _table.Forget(workerKey);
        return Task.CompletedTask;
    }

    public Task<WorkerLoad[]> GetWorkers() => Task.FromResult(_table.Live(Now).OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => w.Load).ToArray());

    public Task<RouterStatus> GetStatus() => Task.FromResult(new RouterStatus
    {
        ModelId = ModelId,
        Silo = silo.SiloAddress.ToParsableString(),
        Policy = _policy.Name,
        Workers = _table.Visible(Now).Select(w => w.Load).ToArray(),
    });

    public Task SetPolicy(string policy)
    {
        _policy = PlacementPolicies.Create(policy);
        return Task.CompletedTask;
    }

    public Task<bool> WaitForWorkers(int count, TimeSpan timeout) => _table.WaitForLive(count, timeout, Now);

    public async Task<int> Rebalance()
    {
        var moved = await Rebalancer.RunAsync(GrainFactory, _table.Live(Now), Now);
        ClusterInstruments.Rebalanced(ModelId, SiloLabel, moved);
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
            logger.LogWarning(e, "rebalancing of model {Model} failed", ModelId);
        }
        finally
        {
            _rebalancing = false;
        }
    }

    private Task EvictQuietly()
    {
        _table.Evict(Now);
        return Task.CompletedTask;
    }

    /// <summary>Reads the load of every worker the catalog knows for this model (on silos not dead), each call bounded.</summary>
    private async Task RebuildFromCatalog()
    {
        try
        {
            var keys = await GrainFactory.GetGrain<ICatalogRegistry>(0).WorkersOf(ModelId).WaitAsync(RebuildCallTimeout);
            var loads = await Task.WhenAll(keys.Select(async key =>
            {
                try
                {
                    return await GrainFactory.GetGrain<IWorkerGrain>(key).GetLoad().WaitAsync(RebuildCallTimeout);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    return null; // gone, or its silo is unreachable: its reports (if any) will say
                }
            }));
            var now = Now;
            foreach (var load in loads)
            {
                if (load is not null) _table.Update(load, now);
            }
            logger.LogInformation("router of {Model} activated on {Silo}: {Count} worker(s) from the catalog", ModelId, silo.SiloAddress, _table.Count);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogInformation("router of {Model}: catalog unavailable ({Error}); waiting for worker reports", ModelId, e.Message);
        }
    }
}
