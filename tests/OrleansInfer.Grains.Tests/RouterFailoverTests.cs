using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>The router's silo dies: the router comes back elsewhere with a whole view, and the dead silo's worker is gone from it for good.</summary>
public sealed class RouterFailoverTests
{
    [Fact]
    public async Task ARouterWhoseSiloDiesPlacesAtOnceElsewhereAndForgetsTheDeadWorker()
    {
        var prompt = SharedData.Reference.Cases[0].PromptTokenIds;
        var expected = (await Streams.Reference([prompt]))[0];

        await using var cluster = ClusterFixture.Build(stepDelayMs: 3, placementWait: TimeSpan.FromSeconds(20));
        await cluster.DeployAsync();
        var router = cluster.Client.GetGrain<IRouterGrain>(ClusterFixture.ModelId);
        var control = cluster.Client.GetGrain<IRouterControl>(ClusterFixture.ModelId);
        Assert.True(await router.WaitForWorkers(3, TimeSpan.FromSeconds(30)), "expected 3 workers within 30 s");

        // The test cluster's membership table lives in the test process, so any silo can go, the router's included.
        var host = (await router.GetStatus()).Silo;
        var victim = cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == host);
        var victimKey = ClusterFixture.WorkerKeyOf(cluster, victim.Name);
        var lateReport = await cluster.Client.GetGrain<IWorkerGrain>(victimKey).GetLoad();

        await cluster.KillSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();

        // The new activation knows no worker at first: it waits for reports instead of refusing with NoWorkers.
        var decision = await router.Place(new PlacementRequest { PromptTokens = prompt, MaxTokens = 8 });
        Assert.NotEqual(victimKey, decision.WorkerKey);
        var status = await router.GetStatus();
        Assert.NotEqual(host, status.Silo);
        Assert.DoesNotContain(status.Workers, w => w.WorkerKey == victimKey);

        // A report from the dead silo arriving late is ignored: its worker is never listed or chosen again.
        await control.ReportLoad(lateReport with { Sequence = long.MaxValue });
        Assert.DoesNotContain(await router.GetWorkers(), w => w.WorkerKey == victimKey);
        Assert.DoesNotContain((await router.GetStatus()).Workers, w => w.WorkerKey == victimKey);
        for (var i = 0; i < 6; i++) Assert.NotEqual(victimKey, (await router.Place(new PlacementRequest { PromptTokens = [1, 2, 3], MaxTokens = 4 })).WorkerKey);

        var result = await Streams.Collect(new ClusterStreamClient(cluster.Client).GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(prompt)));
        Assert.Equal(expected, result.Tokens);
    }
}
