namespace OrleansInfer.Silo.Tests;

/// <summary>
/// SIGSTOP of the silo hosting the router (and a third of the streams) for longer than the membership timeout, then
/// SIGCONT: the cluster declares it dead and goes on without it; every stream completes once with the reference
/// tokens (chunks the stopped silo sends late are never read); the silo, on waking, learns it was declared dead and
/// exits saying so.
/// </summary>
[Collection(nameof(DrillCollection))]
public sealed class PauseDrillTests() : DrillTest(maxTokens: 96, ignoreEos: true)
{
    [Fact]
    public async Task APausedSiloIsDeclaredDeadAndNoStreamIsLostOrDuplicated()
    {
        RedisServer.Require();
        await using var cluster = new DrillCluster(RedisServer.Address, stepDelayMs: 40);
        await cluster.StartAsync(3);
        var victim = await cluster.RouterHostAsync();

        var generate = await StartGenerateAsync(cluster);

        victim.Process.Signal(Signals.Stop);
        try
        {
            await cluster.WaitUntilDeclaredDeadAsync(victim, TimeSpan.FromSeconds(90));
        }
        finally
        {
            victim.Process.Signal(Signals.Continue);
        }

        var line = await victim.Process.WaitForLine(l => l.Contains("declared this silo dead"), TimeSpan.FromSeconds(60), "the woken silo to say it was declared dead");
        Assert.Contains("exiting", line);
        Assert.Equal(SiloExitCodes.DeclaredDead, await victim.Process.WaitForExit(TimeSpan.FromSeconds(30)));

        await AssertCompletesAsync(generate);
        await cluster.AssertFreeKvReturnsAsync(cluster.Silos.Where(s => s != victim), TimeSpan.FromSeconds(60));
    }
}
