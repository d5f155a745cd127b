using System.Collections.Concurrent;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using static OrleansInfer.Engine.Tests.Waits;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// The threaded engine: submission from any thread, streams, cancellation, queue bounds, failures and shutdown.
/// Nothing sleeps: the runner's BeforeExecute hook holds or drives the engine thread at a chosen step, and every
/// wait has a timeout that says what was expected.
/// </summary>
public sealed class LlmEngineTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    [Fact]
    public async Task ConcurrentSubmissionsRunOnTheEngineThreadAndComplete()
    {
        var runner = new ScriptedRunner();
        var threads = new ConcurrentBag<string?>();
        runner.BeforeExecute = (_, _) => threads.Add(Thread.CurrentThread.Name);
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var prompts = Enumerable.Range(0, 8).Select(i => new[] { 1, i % 8 }).ToArray();
        var results = await Within(Task.WhenAll(prompts.Select(p => Task.Run(() => engine.GenerateAsync(new GenerationRequest(p, Greedy(6)))))), "8 concurrent requests");
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(ScriptedRunner.Expected(prompts[i][^1], 6), results[i].Output.TokenIds);
            Assert.Equal(new UsageInfo(2, 6, 0), results[i].Usage);
        }

        var streamed = new List<int>();
        await foreach (var chunk in engine.StreamAsync(new GenerationRequest([4], Greedy(3)))) streamed.AddRange(chunk.TokenIds);
        Assert.Equal(ScriptedRunner.Expected(4, 3), streamed);

        await engine.DisposeAsync();
        Assert.All(threads, name => Assert.Equal("engine-loop", name));
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task EveryStepIsReported()
    {
        var runner = new ScriptedRunner();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var steps = new ConcurrentQueue<EngineStepStats>();
        engine.StepCompleted += steps.Enqueue;
        var stream = engine.Submit(new GenerationRequest([1, 2, 3, 4, 5], Greedy(3)));
        Assert.True(stream.RequestId > 0);
        Assert.Equal([1, 2, 3, 4, 5], stream.PromptTokenIds);
        await Within(stream.CollectAsync(), "the request");
        await engine.DisposeAsync();

        var list = steps.Take(3).ToList();
        Assert.Equal([1L, 2, 3], list.Select(s => s.Step));
        Assert.Equal([(5, 0, 1), (0, 1, 1), (0, 1, 1)], list.Select(s => (s.PrefillTokens, s.DecodeTokens, s.ScheduledSequences)));
        Assert.Equal([1, 1, 0], list.Select(s => s.RunningRequests));
        Assert.Equal([5, 6, 0], list.Select(s => (int)s.TokensInKv)); // computed tokens; after step 3 the request is done, its blocks free
        Assert.NotNull(engine.LastStep);
        Assert.Equal(runner.KvCache.BlockCount, engine.KvCache.TotalBlocks);
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task AFullWaitingQueueRejectsAtOnceWithTheReason()
    {
        var runner = new ScriptedRunner();
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call != 0) return;
            entered.Set();
            Wait(gate, "the test to open the gate");
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions { Scheduler = new SchedulerOptions { MaxWaitingRequests = 2, MaxQueuedTokens = 10 } });
        try
        {
            var running = engine.Submit(new GenerationRequest([4], Greedy(2)));
            Wait(entered, "the first request's first step"); // admitted: it no longer counts against the queue
            var b = engine.Submit(new GenerationRequest([1, 2, 3, 4, 5, 6], Greedy(2)));
            var tooLong = Assert.Throws<RequestRejectedException>(() => engine.Submit(new GenerationRequest([1, 2, 3, 4, 5], Greedy(2))));
            Assert.Equal(RejectionReason.QueuedTokensFull, tooLong.Reason);
            var c = engine.Submit(new GenerationRequest([1, 2, 3, 4], Greedy(2))); // exactly 10 queued tokens
            var full = Assert.Throws<RequestRejectedException>(() => engine.Submit(new GenerationRequest([4], Greedy(2))));
            Assert.Equal(RejectionReason.QueueFull, full.Reason);
            Assert.Contains("2 requests", full.Message);
            gate.Set();

            await Within(Task.WhenAll(running.CollectAsync(), b.CollectAsync(), c.CollectAsync()), "the admitted requests");
            // Admitted requests left the queue: there is room again.
            var again = await Within(engine.GenerateAsync(new GenerationRequest([1, 2, 3, 4, 5, 6, 7], Greedy(1))), "a request after the queue drained");
            Assert.Equal([6], again.Output.TokenIds);
        }
        finally
        {
            gate.Set();
            await engine.DisposeAsync();
        }
        EngineAssert.Quiescent(engine, runner);
        Assert.Equal(RejectionReason.ShuttingDown, Assert.Throws<RequestRejectedException>(() => engine.Submit(new GenerationRequest([4], Greedy(2)))).Reason);
    }

    [Fact]
    public async Task CancellingMidDecodeEndsTheStreamAfterWhatWasSent()
    {
        var runner = new ScriptedRunner();
        using var ready = new ManualResetEventSlim();
        RequestStream? stream = null;
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0) Wait(ready, "the test to hold the stream");
            if (call == 2) stream!.Cancel(); // the request is dropped after this step
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        stream = engine.Submit(new GenerationRequest([4], Greedy(20)));
        ready.Set();

        var received = new List<int>();
        var e = await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in stream) received.AddRange(chunk.TokenIds);
        }), "the cancelled stream to end");
        Assert.Contains($"request {stream.RequestId} was cancelled", e.Message);
        Assert.Equal(ScriptedRunner.Expected(4, 3), received);

        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task CancellingTheTokenMidPrefillEndsTheStreamWithThatToken()
    {
        var runner = new ScriptedRunner();
        using var cts = new CancellationTokenSource();
        using var ready = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call != 0) return;
            Wait(ready, "the reader to start");
            cts.Cancel(); // during the first chunk of the prompt
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions { Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 4 } });
        var stream = engine.Submit(new GenerationRequest(Enumerable.Range(0, 12).Select(i => i % 8).ToArray(), Greedy(4)));
        var reader = stream.GetAsyncEnumerator(cts.Token);
        var first = reader.MoveNextAsync().AsTask(); // registers the token, then waits for a chunk
        ready.Set();
        var e = await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => first), "the cancelled stream to end");
        Assert.Equal(cts.Token, e.CancellationToken);
        await reader.DisposeAsync();

        await engine.DisposeAsync();
        Assert.Single(runner.Steps, s => s.TokenCount > 0); // nothing ran after the first chunk
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task ARunnerFailureFailsItsRequestsAndTheEngineGoesOn()
    {
        var runner = new ScriptedRunner { AllowUnknownReleases = true, FailBeforeApply = (_, batch) => batch.Tokens.Contains(7) };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var e = await Within(Assert.ThrowsAsync<EngineFaultException>(() => engine.GenerateAsync(new GenerationRequest([7, 7, 7], Greedy(3)))), "the failing request");
        Assert.Contains("model runner failed", e.Message);
        Assert.Equal(EngineFaultException.RunnerStage, e.Stage);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var after = await Within(engine.GenerateAsync(new GenerationRequest([4], Greedy(3))), "a request after the failure");
        Assert.Equal(ScriptedRunner.Expected(4, 3), after.Output.TokenIds);
        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task DisposingEndsInFlightStreamsAndLeavesTheRunnerClean()
    {
        var runner = new ScriptedRunner();
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call != 1) return;
            entered.Set();
            Wait(gate, "the test to open the gate");
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var a = engine.Submit(new GenerationRequest([4], Greedy(20)));
        var b = engine.Submit(new GenerationRequest([5], Greedy(20)));
        Wait(entered, "the second step");
        var disposing = engine.DisposeAsync().AsTask(); // stops the loop after the step under way
        gate.Set();
        await Within(disposing, "the engine to stop");
        await engine.DisposeAsync(); // twice is harmless

        foreach (var stream in new[] { a, b })
        {
            var e = await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.CollectAsync()), "the stopped stream to end");
            Assert.Contains("the engine stopped", e.Message);
        }
        EngineAssert.Quiescent(engine, runner);
    }
}
