using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>The client's placement retries: transient refusals are retried with backoff until a deadline, and only then reported.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class ClusterStreamClientTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Plays a worker by reporting <paramref name="load"/> every 250 ms (as a real worker does) until cancelled.</summary>
    private async Task Play(string model, WorkerLoad load, CancellationToken ct)
    {
        var control = fixture.Cluster.Client.GetGrain<IRouterControl>(model);
        for (var n = 1L; !ct.IsCancellationRequested; n++)
        {
            await control.ReportLoad(load with { Sequence = n });
            try
            {
                await Task.Delay(250, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task ARequestWaitsThroughNoWorkersUntilOneReports()
    {
        var prompt = SharedData.Reference.Cases[0].PromptTokenIds;
        var model = $"late-{Guid.NewGuid():N}";
        var retried = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = Streams.Collect(fixture.Streams.GenerateAsync(model, Streams.Greedy(prompt), onRecovery: r =>
        {
            if (r.Kind == RecoveryKind.PlacementRetried) retried.TrySetResult(r.Error);
        }));
        var refused = await retried.Task.WaitAsync(Timeout);
        Assert.Equal(ClusterRejection.NoWorkers, Assert.IsType<ClusterRejectedException>(refused).Reason);
        Assert.False(stream.IsCompleted, "the request must still be waiting for a worker");

        // A real worker (of the fixture's model) starts reporting to this router: the request is placed there and served.
        var worker = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        using var cts = new CancellationTokenSource();
        var playing = Play(model, await fixture.Cluster.Client.GetGrain<IWorkerGrain>(worker).GetLoad(), cts.Token);
        var result = await stream.WaitAsync(Timeout);
        cts.Cancel();
        await playing;
        Assert.Equal(SharedData.Reference.Cases[0].GeneratedTokenIds, result.Tokens);
        Assert.Equal([worker], result.Workers);
    }

    [Fact]
    public async Task AFullClusterIsRetriedUntilTheDeadlineThenRefused()
    {
        var model = $"full-{Guid.NewGuid():N}";
        using var cts = new CancellationTokenSource();
        var playing = Play(model, PlayedWorkers.Load("busy", 16, 0, running: 8, waiting: 16), cts.Token);
        var retries = new List<Exception>();
        var streams = new ClusterStreamClient(fixture.Cluster.Client, new ClusterStreamOptions { RetryDeadline = TimeSpan.FromSeconds(2) });

        var e = await Assert.ThrowsAsync<ClusterRejectedException>(() => Streams.Collect(streams.GenerateAsync(model, Streams.Greedy([1, 2, 3]),
            onRecovery: r => { lock (retries) retries.Add(r.Error); })).WaitAsync(Timeout));
        cts.Cancel();
        await playing;
        Assert.Equal(ClusterRejection.NoCapacity, e.Reason);
        Assert.True(retries.Count >= 2, $"expected several retries within the deadline, saw {retries.Count}");
        Assert.All(retries, r => Assert.Equal(ClusterRejection.NoCapacity, Assert.IsType<ClusterRejectedException>(r).Reason));
    }
}
