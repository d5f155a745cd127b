using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using static OrleansInfer.Engine.Tests.Waits;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// What other threads see of a request's life: submission racing a stop, the idle signal, and whether a request
/// waits. Each race is forced into its window with gates, never left to timing.
/// </summary>
public sealed class EngineLifecycleTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    /// <summary>
    /// Submit passes its "stopping?" check, then stalls in validation (the runner's Config getter, gated on the
    /// submitting thread) while the engine stops: the loop ends everything it holds and sends its last releases (held
    /// at BeforeExecute). Only then does Submit go on. It must refuse, or return a stream that ends, never one that hangs.
    /// </summary>
    [Fact]
    public async Task ASubmitThatRacesDisposeIsRefusedOrEndsNeverHangs()
    {
        var runner = new ScriptedRunner();
        using var firstStep = new ManualResetEventSlim();
        using var releaseFirstStep = new ManualResetEventSlim();
        using var finalStep = new ManualResetEventSlim();
        using var releaseFinalStep = new ManualResetEventSlim();
        using var inGetter = new ManualResetEventSlim();
        using var releaseGetter = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0)
            {
                firstStep.Set();
                Wait(releaseFirstStep, "the test to let the first step run");
            }
            else if (call == 1)
            {
                finalStep.Set();
                Wait(releaseFinalStep, "the test to let the final release step run");
            }
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var running = engine.Submit(new GenerationRequest([4], Greedy(20))); // gives the stop a release to send
        Wait(firstStep, "the running request's first step");

        var gateArmed = 1;
        runner.PropertyRead = _ =>
        {
            if (Thread.CurrentThread.Name == "engine-loop" || Interlocked.Exchange(ref gateArmed, 0) == 0) return;
            inGetter.Set();
            Wait(releaseGetter, "the test to let Submit go on");
        };
        var late = Task.Run(() => engine.Submit(new GenerationRequest([5], Greedy(2))));
        Wait(inGetter, "Submit to stall in validation");
        var disposing = engine.DisposeAsync().AsTask();
        releaseFirstStep.Set();
        Wait(finalStep, "the stopping engine's final release step");

        releaseGetter.Set();
        Exception? outcome;
        try
        {
            var stream = await Within(late, "Submit to return");
            outcome = await Within(Assert.ThrowsAnyAsync<Exception>(() => stream.CollectAsync()), "the late stream to end");
        }
        catch (RequestRejectedException e)
        {
            outcome = e;
        }
        releaseFinalStep.Set();
        await Within(disposing, "the engine to stop");

        var rejected = Assert.IsType<RequestRejectedException>(outcome);
        Assert.Equal(RejectionReason.ShuttingDown, rejected.Reason);
        Assert.Contains("the engine stopped", (await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.CollectAsync()), "the running stream")).Message);
        Assert.True(await Within(engine.WhenIdleAsync(), "idleness after the stop"));
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task WhenIdleWaitsForEverySubmittedRequestAndNoLonger()
    {
        var runner = new ScriptedRunner();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call != 0) return;
            held.Set();
            Wait(release, "the test to let the request run");
        };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        Assert.True(engine.WhenIdleAsync().IsCompletedSuccessfully, "a new engine is idle");

        var stream = engine.Submit(new GenerationRequest([4], Greedy(2)));
        var idle = engine.WhenIdleAsync();
        Assert.False(idle.IsCompleted, "idle right after a submission");
        Wait(held, "the request's first step");
        Assert.False(idle.IsCompleted, "idle while a request runs");
        using (var cts = new CancellationTokenSource())
        {
            var cancelled = engine.WhenIdleAsync(cts.Token);
            cts.Cancel();
            Assert.False(await Within(cancelled, "a cancelled idle wait"));
        }
        release.Set();
        await Within(stream.CollectAsync(), "the request");
        Assert.True(await Within(idle, "idleness once the request ended"));
        await engine.DisposeAsync();
    }

    /// <summary>
    /// A request submitted at the very moment the last one ends (from the engine thread, right after that end was
    /// counted) keeps the engine busy: the idle signal is not completed while it waits, and is once it ends. An end
    /// counts towards idleness only once the engine has published the snapshots that show it (freed blocks included),
    /// so the engine is not idle at the first end either.
    /// </summary>
    [Fact]
    public async Task ARequestSubmittedAsTheLastOneEndsIsNeverReportedIdle()
    {
        var runner = new ScriptedRunner();
        using var secondHeld = new ManualResetEventSlim();
        using var releaseSecond = new ManualResetEventSlim();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        RequestStream? second = null;
        Task<bool>? idleAtFirstEnd = null;
        Task<bool>? idleAfterSecondSubmit = null;
        var endings = 0;
        engine.AfterRequestEnded = () =>
        {
            if (Interlocked.Increment(ref endings) != 1) return;
            idleAtFirstEnd = engine.WhenIdleAsync();
            second = engine.Submit(new GenerationRequest([5], Greedy(2)));
            idleAfterSecondSubmit = engine.WhenIdleAsync();
        };
        runner.BeforeExecute = (_, batch) =>
        {
            if (second is null || !batch.Tokens.Contains(5)) return;
            secondHeld.Set();
            Wait(releaseSecond, "the test to let the second request run");
        };

        await Within(engine.GenerateAsync(new GenerationRequest([4], Greedy(1))), "the first request");
        Wait(secondHeld, "the second request's first step");
        Assert.False(idleAtFirstEnd!.IsCompleted, "idle reported before the first end was published, with the second request submitted");
        Assert.False(second!.IsWaiting, "the second request runs");
        Assert.False(idleAfterSecondSubmit!.IsCompleted, "idle reported while the second request is queued");
        Assert.False(engine.WhenIdleAsync().IsCompleted, "idle reported while the second request runs");
        releaseSecond.Set();
        await Within(second.CollectAsync(), "the second request");
        Assert.True(await Within(idleAfterSecondSubmit, "idleness once the second request ended"));
        Assert.True(await Within(idleAtFirstEnd, "idleness once both requests ended"));
        await engine.DisposeAsync();
    }

    /// <summary>
    /// The engine thread is held right after the last request ended, before it publishes its snapshots: a caller told
    /// "idle" then would read the ended request's blocks as still held (a worker's drain, a test's free-KV check).
    /// </summary>
    [Fact]
    public async Task WhenIdleCompletesOnlyOnceTheSnapshotShowsTheFreedBlocks()
    {
        var runner = new ScriptedRunner();
        using var ended = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var total = engine.KvCache.TotalBlocks;
        engine.AfterRequestEnded = () =>
        {
            ended.Set();
            Wait(release, "the test to let the engine publish");
        };

        var stream = engine.Submit(new GenerationRequest([1, 2, 3, 4, 5], Greedy(6)));
        var idle = engine.WhenIdleAsync();
        Wait(ended, "the request's end");
        Assert.False(engine.IsIdleNow, "idle reported before the snapshots show the request gone");
        Assert.False(idle.IsCompleted, "idle reported before the snapshots show the request gone");
        release.Set();
        Assert.True(await Within(idle, "idleness once the end was published"));
        Assert.Equal(total, engine.KvCache.FreeBlocks);
        await Within(stream.CollectAsync(), "the request");
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task IsWaitingIsTrueFromSubmissionUntilAdmittedAndFalseOnceRunningOrEnded()
    {
        var runner = new ScriptedRunner();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var states = new List<(bool A, bool B)>();
        RequestStream? a = null, b = null;
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0)
            {
                held.Set();
                Wait(release, "the test to submit the second request");
            }
            states.Add((a!.IsWaiting, b!.IsWaiting));
        };
        // One sequence per step: b waits until a ends.
        var engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions { Scheduler = new SchedulerOptions { MaxNumSeqs = 1 } });
        a = engine.Submit(new GenerationRequest([4], Greedy(2)));
        Wait(held, "a's first step");
        Assert.False(a.IsWaiting, "a is running");
        b = engine.Submit(new GenerationRequest([5], Greedy(2)));
        Assert.True(b.IsWaiting, "b was just submitted");
        release.Set();
        await Within(Task.WhenAll(a.CollectAsync(), b.CollectAsync()), "both requests");
        Assert.False(a.IsWaiting, "a ended");
        Assert.False(b.IsWaiting, "b ended");
        await engine.DisposeAsync();

        // a's two steps with b waiting, then b's two (a release-only step may come between: b no longer waits by then).
        Assert.Equal([(false, true), (false, true)], states.Take(2));
        Assert.All(states.Skip(2), s => Assert.Equal((false, false), s));
    }

    [Fact]
    public void APreemptedRequestWaitsAgainUntilItIsReadmitted()
    {
        // 6 blocks of 4; a and b each grow to 16 tokens: b, admitted second, gives way at step 10 (as in SchedulerTests).
        var h = new EngineHarness(new ScriptedRunner(blocks: 6, blockSize: 4) { Model = Models.ContextHash() }, new SchedulerOptions { MaxNumSeqs = 2 });
        var p = new SamplingParams { Temperature = 1, MaxTokens = 12, IgnoreEos = true };
        var a = h.Add([3, 4, 5, 6], p with { Seed = 1 });
        var b = h.Add([6, 5, 4, 3], p with { Seed = 2 });
        Assert.True(a.IsWaiting && b.IsWaiting, "both wait before the first step");
        for (var i = 0; i < 9; i++)
        {
            h.Step();
            Assert.False(a.IsWaiting || b.IsWaiting, $"both run at step {i + 1}");
        }
        Assert.Equal(1, h.Step().Preemptions);
        Assert.False(a.IsWaiting, "a keeps running");
        Assert.True(b.IsWaiting, "b waits again after its preemption");
        while (b.IsWaiting) h.Step();
        Assert.Contains(b, h.Scheduler.Running);
        h.Run();
        Assert.False(a.IsWaiting || b.IsWaiting, "both ended");
        h.AssertQuiescent();
    }
}
