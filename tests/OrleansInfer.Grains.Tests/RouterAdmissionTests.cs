using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Routing;

namespace OrleansInfer.Grains.Tests;

/// <summary>
/// What a router does when it has no worker yet, with reservations and with unhealthy workers: the test plays the
/// workers and feeds exact reports.
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class RouterAdmissionTests(ClusterFixture fixture)
{
    private static PlacementRequest Request(int prompt, int maxTokens) => new() { PromptTokens = Enumerable.Range(1, prompt).ToArray(), MaxTokens = maxTokens };

    private (IRouterGrain Router, IRouterControl Control) NewRouter()
    {
        var id = $"admission-{Guid.NewGuid():N}";
        return (fixture.Cluster.Client.GetGrain<IRouterGrain>(id), fixture.Cluster.Client.GetGrain<IRouterControl>(id));
    }

    [Fact]
    public async Task APlacementWaitsForTheFirstWorkerInsteadOfRefusing()
    {
        // A fresh activation (as after its silo died) knows no worker: the placement waits for the first report.
        var (router, control) = NewRouter();
        var placing = router.Place(Request(10, 10));
        await router.GetStatus(); // the placement, sent first, is in the router by now
        Assert.False(placing.IsCompleted, $"the placement should wait for a worker, but it ended: {placing.Exception?.InnerException?.Message}");

        await control.ReportLoad(PlayedWorkers.Load("w", 64, 60));
        var decision = await placing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("w", decision.WorkerKey);
        Assert.NotEqual(0, decision.Ticket);
    }

    [Fact]
    public async Task ATicketReleasesOnlyItsOwnReservation()
    {
        // 10 + 54 tokens = 4 blocks per placement. a: 40 free, b: 38.
        var (router, control) = NewRouter();
        await control.ReportLoad(PlayedWorkers.Load("a", 64, 40));
        await control.ReportLoad(PlayedWorkers.Load("b", 64, 38));
        var first = await router.Place(Request(10, 54));
        Assert.Equal("a", first.WorkerKey); // a: 36 effective now

        // A forged acknowledgement (a client can put any ticket in its request) must not free first's reservation.
        await control.ReportLoad(PlayedWorkers.Load("a", 64, 40, acknowledged: [first.Ticket + 1, long.MaxValue, 0]));
        Assert.Equal("b", (await router.Place(Request(10, 54))).WorkerKey); // a 36 < b 38

        // b now holds one reservation (34); a's own ticket frees exactly its own: a is back at 40.
        await control.ReportLoad(PlayedWorkers.Load("a", 64, 40, acknowledged: [first.Ticket]));
        Assert.Equal("a", (await router.Place(Request(10, 54))).WorkerKey);
    }

    [Fact]
    public async Task AnUnhealthyWorkerGetsNoPlacementsButStaysVisible()
    {
        var (router, control) = NewRouter();
        await control.ReportLoad(PlayedWorkers.Load("sick", 64, 64, healthy: false, healthReason: "3 consecutive failed steps"));
        await control.ReportLoad(PlayedWorkers.Load("well", 64, 8));
        for (var i = 0; i < 3; i++) Assert.Equal("well", (await router.Place(Request(4, 4))).WorkerKey);

        Assert.Equal(["well"], (await router.GetWorkers()).Select(w => w.WorkerKey));
        var status = await router.GetStatus();
        var sick = Assert.Single(status.Workers, w => w.WorkerKey == "sick");
        Assert.False(sick.Healthy);
        Assert.Equal("3 consecutive failed steps", sick.HealthReason);

        // With only the unhealthy worker left, the router refuses (after its bounded wait) rather than black-holing requests.
        await control.Forget("well");
        var e = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(4, 4)));
        Assert.Equal(ClusterRejection.NoWorkers, e.Reason);
    }

    [Fact]
    public void ClientsSeeNoClusterInternalOperation()
    {
        // Load reports, forgetting workers, policies, moves and drains live on internal interfaces of the grains assembly.
        string[] internalOps = ["ReportLoad", "Forget", "SetPolicy", "Rebalance", "Start", "ReportNow", "MoveWaiting", "MoveRequest", "Drain", "Export", "Register"];
        foreach (var contract in new[] { typeof(IWorkerGrain), typeof(IRouterGrain), typeof(IModelCatalogGrain) })
        {
            var exposed = contract.GetMethods().Select(m => m.Name).Intersect(internalOps).ToList();
            Assert.True(exposed.Count == 0, $"{contract.Name} exposes {string.Join(", ", exposed)} to clients");
        }
        foreach (var control in new[] { typeof(IRouterControl), typeof(Workers.IWorkerControl), typeof(Catalog.ICatalogRegistry) })
        {
            Assert.False(control.IsPublic, $"{control.Name} must not be public");
            Assert.Equal(typeof(RouterGrain).Assembly, control.Assembly);
        }
    }
}
