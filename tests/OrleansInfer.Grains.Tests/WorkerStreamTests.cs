using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>A worker's streams against hand-offs racing completion, a client taking its request over, and moves of just-submitted work.</summary>
[Collection(nameof(ClusterCollection))]
public sealed class WorkerStreamTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task AStreamThatFinishedIsNeverFollowedByAMove()
    {
        var key = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_1");
        var other = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        var control = Grains.GetGrain<IWorkerControl>(key);
        Assert.True(await control.WaitForIdle(Timeout), "expected the worker to be idle before the test");
        var request = Streams.Greedy(SharedData.Reference.Cases[0].PromptTokenIds, maxTokens: 6, ignoreEos: true);

        await using var stream = Grains.GetGrain<IWorkerGrain>(key).Generate(request).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync(), "expected a first chunk");
        var chunks = new List<TokenChunk> { stream.Current };
        // The engine finishes the request while its relay is not being read; a hand-off then races the stream's end.
        Assert.True(await control.WaitForIdle(Timeout), "expected the request to finish in the engine");
        await control.MoveRequest(request.RequestId, other);
        while (await stream.MoveNextAsync()) chunks.Add(stream.Current);

        Assert.DoesNotContain(chunks, c => c.MovedTo is not null);
        var last = chunks.Last(c => !c.IsHeartbeat);
        Assert.Equal("length", last.FinishReason);
        Assert.NotNull(last.Usage);
        Assert.Equal(6, chunks.Sum(c => c.TokenIds.Length));
    }

    [Fact]
    public async Task ASecondCallWithTheSameRequestIdTakesTheRequestOver()
    {
        // A client that lost the gateway its stream went through calls again, with what it received: the worker
        // replaces the first call, and the two together deliver exactly the fault-free output.
        var prompt = SharedData.Reference.Cases[1].PromptTokenIds;
        var expected = (await Streams.Reference([prompt], maxTokens: 40, ignoreEos: true))[0];
        var key = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        var worker = Grains.GetGrain<IWorkerGrain>(key);
        var request = Streams.Greedy(prompt, maxTokens: 40, ignoreEos: true);

        // The engine is held after the step that gave the third token, so the first call is still running (not
        // finished and buffered) when the second arrives, however slow this test thread is.
        var decodeSteps = 0;
        var hold = new EngineHold(ClusterFixture.EnginesOf(fixture.Cluster, "Silo_0").Get(0), step => step.DecodeTokens > 0 && ++decodeSteps == 2);
        var first = worker.Generate(request).GetAsyncEnumerator();
        try
        {
            var received = new List<int>();
            while (received.Count < 3 && await first.MoveNextAsync()) received.AddRange(first.Current.TokenIds);
            await hold.Held.WaitAsync(Timeout);
            Assert.Equal(3, received.Count);

            var again = request with { Resumed = [new OutputProgress { Index = 0, Tokens = [.. received] }] };
            await using var second = worker.Generate(again).GetAsyncEnumerator();
            // With the engine held nothing but a heartbeat can come: it proves the worker took the second call over.
            Assert.True(await second.MoveNextAsync(), "expected a heartbeat from the second call");
            Assert.True(second.Current.IsHeartbeat, "nothing but a heartbeat can come while the engine is held");
            hold.Dispose();

            var e = await Assert.ThrowsAsync<ClusterRejectedException>(async () =>
            {
                while (await first.MoveNextAsync())
                {
                }
            });
            Assert.Contains("taken over", e.Message);

            var rest = new List<TokenChunk>();
            while (await second.MoveNextAsync()) rest.Add(second.Current);
            Assert.Equal(expected, received.Concat(rest.SelectMany(c => c.TokenIds)));
            Assert.Equal("length", rest.Last(c => !c.IsHeartbeat).FinishReason);
        }
        finally
        {
            hold.Dispose();
        }
        await first.DisposeAsync();
        Assert.True(await Grains.GetGrain<IWorkerControl>(key).WaitForIdle(Timeout), "expected the worker to be idle after the take-over");
        Assert.Equal(64, (await worker.GetLoad()).FreeBlocks);
    }

    [Fact]
    public async Task AJustSubmittedWaitingRequestIsMoved()
    {
        // The old worker decided "waiting" from the engine's last published snapshot, which a request submitted since
        // is not in: a drain or a rebalance skipped it.
        var small = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_2");
        var primary = ClusterFixture.WorkerKeyOf(fixture.Cluster, "Silo_0");
        var prompts = SharedData.Reference.Cases.Select(c => c.PromptTokenIds).ToArray();
        var expected = await Streams.Reference(prompts, maxTokens: 30, ignoreEos: true);

        var hold = new EngineHold(ClusterFixture.EnginesOf(fixture.Cluster, "Silo_2").Get(0));
        try
        {
            var running = Streams.Collect(fixture.Streams.GenerateAsync(ClusterFixture.ModelId, Streams.Greedy(prompts[0], 30, ignoreEos: true), pinnedWorker: small));
            await hold.Held.WaitAsync(Timeout);

            // The engine thread is held, so the second request stays in the engine's incoming queue and can produce
            // nothing: its first chunk is a heartbeat, which proves the worker has submitted it.
            var second = Streams.Greedy(prompts[1], 30, ignoreEos: true);
            await using var waiting = Grains.GetGrain<IWorkerGrain>(small).Generate(second).GetAsyncEnumerator();
            Assert.True(await waiting.MoveNextAsync(), "expected a heartbeat from the worker");
            Assert.True(waiting.Current.IsHeartbeat, "nothing but a heartbeat can come while the engine is held");

            Assert.Equal(1, await Grains.GetGrain<IWorkerControl>(small).MoveWaiting(primary, 5));
            hold.Dispose();
            var rest = new List<TokenChunk>();
            while (await waiting.MoveNextAsync()) rest.Add(waiting.Current);
            Assert.Equal(primary, Assert.Single(rest, c => c.MovedTo is not null).MovedTo);
            Assert.Equal(0, rest.Sum(c => c.TokenIds.Length));

            var resumed = await Streams.Collect(Grains.GetGrain<IWorkerGrain>(primary).Generate(second));
            Assert.Equal(expected[1], resumed.Tokens);
            Assert.Equal(expected[0], (await running.WaitAsync(Timeout)).Tokens);
        }
        finally
        {
            hold.Dispose();
        }
    }
}
