using OrleansInfer.Abstractions;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Grains.Routing;

namespace OrleansInfer.Grains.Tests;

/// <summary>
/// Placement decisions on a router fed with exact load reports (the test plays the workers): each policy's choice,
/// admission control and exclusions are asserted exactly.
/// </summary>
[Collection(nameof(ClusterCollection))]
public sealed class RouterPlacementTests(ClusterFixture fixture)
{
    private static WorkerLoad Load(string key, int total, int free, int running = 0, int waiting = 0, int queued = 0, ulong[]? prefixes = null, bool draining = false) =>
        PlayedWorkers.Load(key, total, free, running, waiting, queued, prefixes, draining);

    private async Task<IRouterGrain> Router(string policy, params WorkerLoad[] loads)
    {
        var id = $"placement-{Guid.NewGuid():N}";
        var control = fixture.Cluster.Client.GetGrain<IRouterControl>(id);
        await control.SetPolicy(policy);
        foreach (var l in loads) await control.ReportLoad(l);
        return fixture.Cluster.Client.GetGrain<IRouterGrain>(id);
    }

    private static PlacementRequest Request(int prompt, int maxTokens, params string[] exclude) =>
        new() { PromptTokens = Enumerable.Range(1, prompt).ToArray(), MaxTokens = maxTokens, Exclude = exclude };

    [Fact]
    public async Task KvAwarePicksTheMostRoomAfterAdmittingPromptAndOutput()
    {
        var router = await Router("kv-aware", Load("a", 64, 40), Load("b", 64, 50, waiting: 1, queued: 5), Load("c", 32, 30));
        // 40 + 24 tokens = 4 blocks. Effective free: a 40, b 45, c 30.
        Assert.Equal("b", (await router.Place(Request(40, 24))).WorkerKey);
        // b now holds a 4-block reservation until it reports: a (40) vs b (41): still b.
        Assert.Equal("b", (await router.Place(Request(40, 24))).WorkerKey);
        // Another reservation on b: 37 < 40, a wins.
        Assert.Equal("a", (await router.Place(Request(40, 24))).WorkerKey);
    }

    [Fact]
    public async Task LeastLoadedPicksTheFewestRequests()
    {
        var router = await Router("least-loaded", Load("a", 64, 60, running: 3), Load("b", 64, 10, running: 1), Load("c", 64, 30, running: 1, waiting: 1));
        Assert.Equal("b", (await router.Place(Request(10, 10))).WorkerKey);
        Assert.Equal("c", (await router.Place(Request(10, 10))).WorkerKey); // b has one in flight now; c: 2, b: 2 -> more free wins
    }

    [Fact]
    public async Task RoundRobinTakesEachWorkerInTurn()
    {
        var router = await Router("round-robin", Load("a", 64, 60), Load("b", 64, 60), Load("c", 64, 60));
        var order = new List<string>();
        for (var i = 0; i < 5; i++) order.Add((await router.Place(Request(10, 10))).WorkerKey);
        Assert.Equal(["a", "b", "c", "a", "b"], order);
    }

    [Fact]
    public async Task PrefixAwarePrefersTheWorkerHoldingThePromptsLeadingBlocks()
    {
        var prompt = Enumerable.Range(1, 40).ToArray();
        var hashes = PrefixHash.Chain(prompt, 16);
        var router = await Router("prefix-aware", Load("a", 64, 60), Load("b", 64, 20, prefixes: [hashes[0], hashes[1]]), Load("c", 64, 50, prefixes: [hashes[0]]));
        Assert.Equal("b", (await router.Place(new PlacementRequest { PromptTokens = prompt, MaxTokens = 10 })).WorkerKey);
        // A prompt none holds falls back to KV.
        Assert.Equal("a", (await router.Place(new PlacementRequest { PromptTokens = [9, 9, 9], MaxTokens = 10 })).WorkerKey);
    }

    [Fact]
    public async Task ExcludedAndDrainingWorkersAreNotUsed()
    {
        var router = await Router("kv-aware", Load("a", 64, 60), Load("b", 64, 50), Load("c", 64, 63, draining: true));
        Assert.Equal("b", (await router.Place(Request(10, 10, "a"))).WorkerKey);
        var e = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(10, 10, "a", "b")));
        Assert.Equal(ClusterRejection.NoWorkers, e.Reason);
    }

    [Fact]
    public async Task WithNoRoomRequestsQueueUpToTheLimitThenAreRejected()
    {
        var router = await Router("kv-aware", Load("a", 16, 1, running: 4, waiting: 15), Load("b", 16, 2, running: 4, waiting: 14));
        // No KV room anywhere: the shortest queue takes it (ties: the most room); a queue at 16 takes no more.
        // b (14) -> b is 15; a (15, room 1) beats b (15, room 2 - 5 reserved); a is full; b (15) -> 16; then none.
        var order = new List<string>();
        for (var i = 0; i < 3; i++) order.Add((await router.Place(Request(40, 40))).WorkerKey);
        Assert.Equal(["b", "a", "b"], order);
        var rejected = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(40, 40)));
        Assert.Equal(ClusterRejection.NoCapacity, rejected.Reason);
        Assert.Contains("cluster is full", rejected.Message);
    }

    [Fact]
    public async Task ARouterWithoutWorkersSaysSo()
    {
        var id = $"empty-{Guid.NewGuid():N}";
        var router = fixture.Cluster.Client.GetGrain<IRouterGrain>(id);
        var e = await Assert.ThrowsAsync<ClusterRejectedException>(() => router.Place(Request(4, 4)));
        Assert.Equal(ClusterRejection.NoWorkers, e.Reason);
        Assert.Contains("waited 5 s", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Cluster.Client.GetGrain<IRouterControl>(id).SetPolicy("random"));
    }
}
