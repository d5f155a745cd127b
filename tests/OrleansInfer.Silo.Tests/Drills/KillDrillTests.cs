namespace OrleansInfer.Silo.Tests;

/// <summary>
/// SIGKILL of a silo while 60 greedy streams flow, two or three silos over Redis: the silo hosting the router, or one
/// hosting only workers. Every stream completes exactly once with the single-process reference tokens, and every
/// surviving worker's KV is free again afterwards.
/// </summary>
[Collection(nameof(DrillCollection))]
public sealed class KillDrillTests() : DrillTest(maxTokens: 64, ignoreEos: false)
{
    [Theory]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(3, false)]
    public async Task EveryStreamSurvivesTheSigkillOfASilo(int silos, bool killRouterHost)
    {
        RedisServer.Require();
        await using var cluster = new DrillCluster(RedisServer.Address, stepDelayMs: 40);
        await cluster.StartAsync(silos);
        var routerHost = await cluster.RouterHostAsync();
        var victim = killRouterHost ? routerHost : cluster.Silos.First(s => s != routerHost);

        var generate = await StartGenerateAsync(cluster);
        var onVictim = generate.Count(l => l.Contains("first token from worker " + victim.Worker));

        victim.Process.Kill();

        await AssertCompletesAsync(generate);
        if (onVictim > 0) Assert.True(generate.Count(l => l.Contains("resumed on worker")) >= 1, $"{onVictim} prompt(s) were on the killed worker; none says it resumed");
        await cluster.AssertFreeKvReturnsAsync(cluster.Silos.Where(s => s != victim), TimeSpan.FromSeconds(60));
    }
}
