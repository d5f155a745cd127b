using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Grains.Routing;

namespace OrleansInfer.Grains.Tests;

/// <summary>Killing (or gracefully stopping) a silo mid-stream: every stream completes, identical to a fault-free run.</summary>
public sealed class FailoverTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamsSurviveTheLossOfTheSiloServingThem(bool kill)
    {
        var prompts = await Streams.FourPrompts();
        var expected = await Streams.Reference(prompts);

        // A graceful stop drains: waiting requests move at once, running ones get 300 ms and then move too.
        await using var cluster = ClusterFixture.Build(stepDelayMs: 15, drainTimeout: TimeSpan.FromMilliseconds(300));
        await cluster.DeployAsync();
        var router = cluster.Client.GetGrain<IRouterGrain>(ClusterFixture.ModelId);
        Assert.True(await router.WaitForWorkers(3, TimeSpan.FromSeconds(30)), "expected 3 workers within 30 s");
        await cluster.Client.GetGrain<IRouterControl>(ClusterFixture.ModelId).SetPolicy("round-robin");

        // Every stream must have delivered a few tokens before the silo goes.
        var flowing = prompts.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var firstWorker = new string?[prompts.Length];
        var finishedBeforeTheStop = new bool[prompts.Length];
        var stopped = false;
        var streams = prompts.Select((p, i) => Streams.Collect(
            Intercept(new ClusterStreamClient(cluster.Client).GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(p)), c =>
            {
                firstWorker[i] ??= c.Worker;
                if (c.Usage is not null) finishedBeforeTheStop[i] = !Volatile.Read(ref stopped);
            }),
            n => { if (n == 5) flowing[i].TrySetResult(); })).ToArray();
        await Task.WhenAll(flowing.Select(f => f.Task)).WaitAsync(TimeSpan.FromSeconds(60));

        var victim = cluster.Silos.First(s => s.Name != "Silo_0" && firstWorker.Any(w => w is not null && w.StartsWith(s.SiloAddress.ToParsableString(), StringComparison.Ordinal)));
        var victimKey = ClusterFixture.WorkerKeyOf(cluster, victim.Name);
        if (kill) await cluster.KillSiloAsync(victim);
        else await cluster.StopSiloAsync(victim);
        Volatile.Write(ref stopped, true);

        var results = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(120));
        for (var i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], results[i].Tokens);
        var onVictim = Enumerable.Range(0, prompts.Length).Where(i => results[i].Workers[0] == victimKey).ToList();
        Assert.NotEmpty(onVictim);
        // A stream of the lost worker ends elsewhere, unless it finished there before the silo was gone (a drain lets
        // running requests finish within its timeout).
        Assert.All(onVictim, i => Assert.True(results[i].Workers[^1] != victimKey || finishedBeforeTheStop[i],
            $"stream {i} of the lost worker should end elsewhere: {string.Join(" -> ", results[i].Workers)}"));
        if (!kill) Assert.DoesNotContain(await router.GetWorkers(), w => w.WorkerKey == victimKey);
    }

    private static async IAsyncEnumerable<TokenChunk> Intercept(IAsyncEnumerable<TokenChunk> stream, Action<TokenChunk> observe)
    {
        await foreach (var c in stream)
        {
            observe(c);
            yield return c;
        }
    }
}
