using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Engine.Telemetry;
using static OrleansInfer.Engine.Telemetry.EngineTelemetryNames;
using static OrleansInfer.Engine.Tests.Waits;

namespace OrleansInfer.Engine.Tests.Telemetry;

/// <summary>
/// The engine's metrics, read through a MeterListener, on scripted runs whose numbers are known exactly. Every engine
/// here gets a model label of its own: the instruments are process-wide and other tests run engines meanwhile.
/// </summary>
public sealed class EngineMetricsTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    private static (LlmEngine Engine, MetricRecorder Metrics, string Model) Start(ScriptedRunner runner, SchedulerOptions? scheduler = null, string? model = null)
    {
        model ??= $"metrics-{Guid.NewGuid():N}";
        var metrics = new MetricRecorder(model);
        var engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions
        {
            Scheduler = scheduler ?? new SchedulerOptions(),
            TelemetryLabels = new TelemetryLabels { Model = model, Worker = "w-" + model, Silo = "silo-1" },
        });
        return (engine, metrics, model);
    }

    [Fact]
    public async Task ThreeRequestsCountTheirTokensFinishesAndTimings()
    {
        var (engine, metrics, model) = Start(new ScriptedRunner());
        using var _ = metrics;
        int[][] prompts = [[4, 5, 6], [3, 4, 5, 6, 7], [5, 5, 5, 5, 5, 5, 5]];
        int[] outputs = [4, 6, 2];
        await Within(Task.WhenAll(prompts.Select((p, i) => engine.GenerateAsync(new GenerationRequest(p, Greedy(outputs[i]))))), "the three requests");
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");

        Assert.Equal(15, metrics.Sum(PromptTokens));
        Assert.Equal(12, metrics.Sum(GenerationTokens));
        Assert.Equal(3, metrics.Sum(RequestsFinished, FinishReasonLabel, "length"));
        Assert.Equal(3, metrics.Sum(RequestsFinished));
        foreach (var h in new[] { QueueTime, PrefillTime, DecodeTime, TimeToFirstToken, RequestDuration })
        {
            var values = metrics.Values(h);
            Assert.True(values.Count == 3 && values.All(v => v >= 0), $"{h}: expected 3 measurements >= 0, got [{string.Join(", ", values)}]");
        }
        // One inter-token gap per token after the first of each request.
        Assert.Equal(3 + 5 + 1, metrics.Values(InterTokenLatency).Count);
        Assert.Equal(0, metrics.Sum(Preemptions));

        // Every measurement carries the engine's labels (the device is the runner's).
        var m = metrics.Of(GenerationTokens)[0];
        Assert.Equal((model, "w-" + model, "silo-1", "scripted"),
            (m.Tags[ModelLabel], m.Tags[WorkerLabel], m.Tags[SiloLabel], m.Tags[DeviceLabel]));
        Assert.Equal("{token}", m.Unit);
        Assert.Equal("s", metrics.Of(RequestDuration)[0].Unit);
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task TheGaugesReportThePublishedSnapshot()
    {
        var runner = new ScriptedRunner();
        using var entered0 = new ManualResetEventSlim();
        using var gate0 = new ManualResetEventSlim();
        using var entered2 = new ManualResetEventSlim();
        using var gate2 = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            var (entered, gate) = call switch { 0 => (entered0, gate0), 2 => (entered2, gate2), _ => (null, null) };
            if (entered is null) return;
            entered.Set();
            Wait(gate!, $"the test to release step {call}");
        };
        var (engine, metrics, _) = Start(runner, new SchedulerOptions { MaxNumSeqs = 1 });
        using var __ = metrics;
        try
        {
            var a = engine.Submit(new GenerationRequest([4], Greedy(8)));
            Wait(entered0, "the first step");
            var b = engine.Submit(new GenerationRequest([5], Greedy(2)));
            var c = engine.Submit(new GenerationRequest([6], Greedy(2)));
            gate0.Set();
            // Held in step 2: the snapshot published after step 1 shows a running, b and c waiting (one sequence a step).
            Wait(entered2, "the third step");
            metrics.ReadGauges();
            Assert.Equal((1, 2), (engine.Load.RunningRequests, engine.Load.WaitingRequests));
            Assert.Equal(1, metrics.Last(RequestsRunning));
            Assert.Equal(2, metrics.Last(RequestsWaiting));
            var kv = engine.KvCache;
            Assert.Equal((1, 31, 0), (kv.UsedBlocks, kv.FreeBlocks, kv.CachedBlocks)); // a's 3 tokens in one block of 4
            Assert.Equal(1.0 / 32, metrics.Last(KvCacheUsage));
            Assert.Equal(1, metrics.Last(KvCacheBlocks, StateLabel, "used"));
            Assert.Equal(31, metrics.Last(KvCacheBlocks, StateLabel, "free"));
            Assert.Equal(0, metrics.Last(KvCacheBlocks, StateLabel, "cached"));
            gate2.Set();
            await Within(Task.WhenAll(a.CollectAsync(), b.CollectAsync(), c.CollectAsync()), "the three requests");
            Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");

            // Idle: a's 9 tokens left two full blocks registered in the prefix cache.
            metrics.ReadGauges();
            kv = engine.KvCache;
            Assert.Equal((0, 32, 2), (kv.UsedBlocks, kv.FreeBlocks, kv.CachedBlocks));
            Assert.Equal((0, 0), (metrics.Last(RequestsRunning), metrics.Last(RequestsWaiting)));
            Assert.Equal(0, metrics.Last(KvCacheUsage));
            Assert.Equal((0, 30, 2), (metrics.Last(KvCacheBlocks, StateLabel, "used"), metrics.Last(KvCacheBlocks, StateLabel, "free"), metrics.Last(KvCacheBlocks, StateLabel, "cached")));
        }
        finally
        {
            gate0.Set();
            gate2.Set();
            await engine.DisposeAsync();
        }

        // A disposed engine no longer reports.
        var before = metrics.Of(RequestsRunning).Count;
        metrics.ReadGauges();
        Assert.Equal(before, metrics.Of(RequestsRunning).Count);
    }

    [Fact]
    public async Task PreemptionsAreCountedAsTheSchedulerCountsThem()
    {
        // 6 blocks of 4: two requests growing to 16 tokens (4 blocks each) cannot run together to the end. The first
        // step waits until both are queued: otherwise the first could finish before the second arrives, and nothing
        // would give way.
        var runner = new ScriptedRunner(blocks: 6, blockSize: 4);
        using var bothQueued = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0) Wait(bothQueued, "the test to queue both requests");
        };
        var (engine, metrics, _) = Start(runner, new SchedulerOptions { MaxNumSeqs = 2 });
        using var _ = metrics;
        var first = engine.GenerateAsync(new GenerationRequest([3, 4, 5, 6], Greedy(12)));
        var second = engine.GenerateAsync(new GenerationRequest([6, 5, 4, 3], Greedy(12)));
        bothQueued.Set();
        await Within(Task.WhenAll(first, second), "both requests");
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        await engine.DisposeAsync();

        Assert.True(engine.TotalPreemptions > 0, "the pool is too small for both: one must give way");
        Assert.Equal(engine.TotalPreemptions, metrics.Sum(Preemptions));
        Assert.Equal(24, metrics.Sum(GenerationTokens)); // tokens recomputed after a preemption are not generated again
        Assert.Equal(2, metrics.Sum(RequestsFinished, FinishReasonLabel, "length"));
    }

    [Fact]
    public async Task ARepeatedPromptHitsThePrefixCache()
    {
        var (engine, metrics, _) = Start(new ScriptedRunner());
        using var _ = metrics;
        int[] prompt = [3, 4, 5, 6, 7, 3, 4, 5, 6]; // 9 tokens: two full blocks of 4, then one token
        await Within(engine.GenerateAsync(new GenerationRequest(prompt, Greedy(2))), "the first request");
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        Assert.Equal((9, 0), (metrics.Sum(PrefixCacheQueries), metrics.Sum(PrefixCacheHits)));

        var second = await Within(engine.GenerateAsync(new GenerationRequest(prompt, Greedy(2))), "the second request");
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        // The two full blocks are found; the last token is always computed again.
        Assert.Equal(8, second.Usage.CachedPromptTokens);
        Assert.Equal((18, 8), (metrics.Sum(PrefixCacheQueries), metrics.Sum(PrefixCacheHits)));
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task CancelledAndFailedRequestsCountAsAbortAndErrorWithoutLatencies()
    {
        // From 6 the default model says 3, 2, 7: a batch carrying 7 fails the runner.
        var (failing, metrics, model) = Start(new ScriptedRunner { AllowUnknownReleases = true, FailBeforeApply = (_, batch) => batch.Tokens.Contains(7) });
        using var _ = metrics;
        await Within(Assert.ThrowsAsync<EngineFaultException>(() => failing.GenerateAsync(new GenerationRequest([6], Greedy(5)))), "the failing request");
        Assert.True(await failing.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        await failing.DisposeAsync();

        // A second engine with the same labels: its request is cancelled after its third step.
        var runner = new ScriptedRunner();
        using var ready = new ManualResetEventSlim();
        RequestStream? stream = null;
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0) Wait(ready, "the test to hold the stream");
            if (call == 2) stream!.Cancel();
        };
        var engine = Start(runner, model: model).Engine;
        stream = engine.Submit(new GenerationRequest([4], Greedy(50)));
        ready.Set();
        await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.CollectAsync()), "the cancelled stream to end");
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        await engine.DisposeAsync();

        Assert.Equal(1, metrics.Sum(RequestsFinished, FinishReasonLabel, "error"));
        Assert.Equal(1, metrics.Sum(RequestsFinished, FinishReasonLabel, "abort"));
        Assert.Equal(2, metrics.Sum(RequestsFinished));
        Assert.Empty(metrics.Values(RequestDuration));
        Assert.Empty(metrics.Values(QueueTime));
        // Both produced tokens before they ended: their prompts count, and the 3 + 3 tokens.
        Assert.Equal(2, metrics.Sum(PromptTokens));
        Assert.Equal(6, metrics.Sum(GenerationTokens));
    }
}
