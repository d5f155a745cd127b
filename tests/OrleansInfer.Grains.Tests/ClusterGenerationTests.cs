using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Core;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

[Collection(nameof(ClusterCollection))]
public sealed class ClusterGenerationTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task WorkersReportTheirCapacities()
    {
        var workers = await Grains.GetGrain<IRouterGrain>(ClusterFixture.ModelId).GetWorkers();
        Assert.Equal(3, workers.Length);
        var byKey = workers.ToDictionary(w => w.WorkerKey);
        foreach (var (silo, blocks) in ClusterFixture.BlocksBySilo)
        {
            var w = byKey[ClusterFixture.WorkerKeyOf(fixture.Cluster, silo)];
            Assert.Equal(blocks, w.TotalBlocks);
            Assert.Equal(16, w.BlockSize);
            Assert.Equal(128, w.ContextLength);
        }
    }

    [Fact]
    public async Task ReferencePromptsAreServedWhereTheMostKvIs()
    {
        var cases = SharedData.Reference.Cases;
        var results = await Task.WhenAll(cases.Select(c => Streams.Collect(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(c.PromptTokenIds)))));
        var primary = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        for (var i = 0; i < cases.Count; i++)
        {
            Assert.Equal(cases[i].GeneratedTokenIds, results[i].Tokens);
            Assert.Equal(cases[i].Text[cases[i].Prompt.Length..], results[i].Text);
            Assert.Equal([primary], results[i].Workers);
            Assert.Equal("length", results[i].FinishReason);
        }
    }

    [Fact]
    public async Task CancellingAStreamFreesTheRemoteWorkersBlocks()
    {
        var key = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_2");
        var worker = Grains.GetGrain<IWorkerControl>(key);
        Assert.True(await worker.WaitForIdle(TimeSpan.FromSeconds(20)), "expected the worker to be idle before the test");
        var baseline = (await Grains.GetGrain<IWorkerGrain>(key).GetLoad()).FreeBlocks;
        Assert.Equal(16, baseline);

        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(SharedData.Reference.Cases[0].PromptTokenIds, 100, ignoreEos: true), cts.Token, pinnedWorker: key))
            {
                if (++seen == 3) cts.Cancel();
            }
        });
        Assert.True(await worker.WaitForIdle(TimeSpan.FromSeconds(20)), "expected the cancelled request to leave the worker within 20 s");
        Assert.Equal(baseline, (await Grains.GetGrain<IWorkerGrain>(key).GetLoad()).FreeBlocks);
    }

    [Fact]
    public async Task WaitingWorkIsMovedToAWorkerWithRoomAndFinishesUnchanged()
    {
        // Four 100-token prompts on the 16-block worker: two run (7 blocks each, growing to 8), two wait for KV.
        var rng = new Random(5);
        var prompts = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 100).Select(_ => rng.Next(3, 512)).ToArray()).ToArray();
        var expected = await Streams.Reference(prompts, maxTokens: 20, ignoreEos: true);
        var small = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_2");
        var primary = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");

        // Hold the small worker's engine thread at the first step that has two requests waiting.
        var hold = new EngineHold(ClusterFixture.EnginesOf(fixture.Cluster, "Silo_2").Get(0), s => s.WaitingRequests >= 2);
        try
        {
            var streams = prompts.Select(p => Streams.Collect(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(p, 20, ignoreEos: true), pinnedWorker: small))).ToArray();
            await hold.Held.WaitAsync(TimeSpan.FromSeconds(30));
            await Grains.GetGrain<IWorkerControl>(small).ReportNow();
            await Grains.GetGrain<IRouterControl>(ClusterFixture.ModelId).Rebalance();
            hold.Dispose();

            var results = await Task.WhenAll(streams);
            for (var i = 0; i < 4; i++) Assert.Equal(expected[i], results[i].Tokens);
            Assert.Equal(2, results.Count(r => r.Workers.SequenceEqual([small, primary]) || r.Workers.SequenceEqual([primary])));
            Assert.Equal(2, results.Count(r => r.Workers.SequenceEqual([small])));
        }
        finally
        {
            hold.Dispose();
        }
    }

    [Fact]
    public async Task AnInvalidRequestIsRejectedNamingTheProblem()
    {
        var tooLong = Enumerable.Repeat(5, 200).ToArray();
        var e = await Assert.ThrowsAsync<ClusterRejectedException>(() => Streams.Collect(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(tooLong))));
        Assert.Equal(ClusterRejection.InvalidRequest, e.Reason);

        var badTemperature = Streams.Greedy([1, 2, 3]) with { Sampling = new SamplingSpec { Temperature = -1 } };
        var bad = await Assert.ThrowsAsync<ClusterRejectedException>(() => Streams.Collect(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, badTemperature)));
        Assert.Equal(ClusterRejection.InvalidRequest, bad.Reason);
        Assert.Contains("temperature", bad.Message);
    }
}
