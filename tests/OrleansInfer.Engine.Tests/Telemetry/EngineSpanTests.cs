using System.Diagnostics;
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
/// The engine's request spans, seen by an ActivityListener: each test submits under an outer activity of its own and
/// looks only at that trace, so engines of tests running meanwhile do not show up.
/// </summary>
public sealed class EngineSpanTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    private static LlmEngine NewEngine(ScriptedRunner runner, SchedulerOptions? scheduler = null) =>
        new(runner, TestTokenizer.Create(), new EngineOptions
        {
            Scheduler = scheduler ?? new SchedulerOptions(),
            TelemetryLabels = new TelemetryLabels { Model = "span-model", Worker = "span-worker", Silo = "span-silo" },
        });

    private static string[] EventNames(Activity span) => span.Events.Select(e => e.Name).ToArray();

    private static object? EventTag(Activity span, string evt, string key) => span.Events.Single(e => e.Name == evt).Tags.Single(t => t.Key == key).Value;

    [Fact]
    public async Task EachRequestGetsOneChildSpanOfTheCallerWithItsEventsInOrder()
    {
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        var engine = NewEngine(new ScriptedRunner());
        try
        {
            var a = engine.Submit(new GenerationRequest([4, 5, 6], Greedy(3)));
            Assert.Same(outer, Activity.Current); // the caller's context is unchanged
            var b = engine.Submit(new GenerationRequest([5], Greedy(2)));
            await Within(Task.WhenAll(a.CollectAsync(), b.CollectAsync()), "both requests");
            Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        }
        finally
        {
            await engine.DisposeAsync();
            outer.Stop();
        }

        Assert.Equal(2, spans.Started);
        var stopped = spans.Stopped.OrderBy(s => (long)s.GetTagItem(RequestIdAttribute)!).ToList();
        Assert.Equal(2, stopped.Count);
        Assert.All(spans.Stops.Values, n => Assert.Equal(1, n));
        foreach (var (span, prompt, output) in stopped.Zip([3, 1], [3, 2]))
        {
            Assert.Equal(RequestSpan, span.OperationName);
            Assert.Equal(ActivityKind.Internal, span.Kind);
            Assert.Equal(outer.SpanId, span.ParentSpanId);
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
            Assert.Equal([QueuedEvent, ScheduledEvent, FirstTokenEvent, FinishedEvent], EventNames(span));
            Assert.Equal("length", EventTag(span, FinishedEvent, FinishReasonLabel));
            Assert.Equal(prompt, EventTag(span, FinishedEvent, PromptTokensAttribute));
            Assert.Equal(output, EventTag(span, FinishedEvent, OutputTokensAttribute));
            Assert.Equal(("span-model", "span-worker", "span-silo", "scripted"),
                (span.GetTagItem(ModelLabel), span.GetTagItem(WorkerLabel), span.GetTagItem(SiloLabel), span.GetTagItem(DeviceLabel)));
        }
    }

    [Fact]
    public async Task APreemptedRequestsSpanShowsThePreemptionAndTheRecompute()
    {
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        var engine = NewEngine(new ScriptedRunner(blocks: 6, blockSize: 4), new SchedulerOptions { MaxNumSeqs = 2 });
        try
        {
            await Within(Task.WhenAll(engine.GenerateAsync(new GenerationRequest([3, 4, 5, 6], Greedy(12))),
                engine.GenerateAsync(new GenerationRequest([6, 5, 4, 3], Greedy(12)))), "both requests");
            Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        }
        finally
        {
            await engine.DisposeAsync();
            outer.Stop();
        }

        Assert.True(engine.TotalPreemptions > 0, "the pool is too small for both: one must give way");
        var preemptions = spans.Stopped.Sum(s => EventNames(s).Count(e => e == PreemptedEvent));
        Assert.Equal(engine.TotalPreemptions, preemptions);
        var victim = spans.Stopped.First(s => EventNames(s).Contains(PreemptedEvent));
        var names = EventNames(victim);
        // Scheduled again after each preemption, marked as a recompute.
        var preempted = Array.IndexOf(names, PreemptedEvent);
        Assert.Equal(ScheduledEvent, names[preempted + 1]);
        Assert.Equal(true, victim.Events.ElementAt(preempted + 1).Tags.Single(t => t.Key == RecomputeAttribute).Value);
        Assert.Equal(FinishedEvent, names[^1]);
        Assert.Equal(12, EventTag(victim, FinishedEvent, OutputTokensAttribute));
    }

    [Fact]
    public async Task ACancelledRequestsSpanEndsOnceWithAnError()
    {
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        var runner = new ScriptedRunner();
        using var ready = new ManualResetEventSlim();
        RequestStream? stream = null;
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0) Wait(ready, "the test to hold the stream");
            if (call == 2) stream!.Cancel(); // the request is dropped after this step
        };
        var engine = NewEngine(runner);
        try
        {
            stream = engine.Submit(new GenerationRequest([4], Greedy(50)));
            ready.Set();
            await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.CollectAsync()), "the cancelled stream to end");
            Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        }
        finally
        {
            ready.Set();
            await engine.DisposeAsync();
            outer.Stop();
        }

        var span = Assert.Single(spans.Stopped);
        Assert.Equal(1, spans.Stops[span.SpanId]);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("cancelled", span.GetTagItem("error.type"));
        Assert.Equal("abort", EventTag(span, FinishedEvent, FinishReasonLabel));
        Assert.Equal([QueuedEvent, ScheduledEvent, FirstTokenEvent, FinishedEvent], EventNames(span));
    }

    [Fact]
    public async Task AFailedRequestsSpanEndsWithTheFault()
    {
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        var engine = NewEngine(new ScriptedRunner { AllowUnknownReleases = true, FailBeforeApply = (_, batch) => batch.Tokens.Contains(7) });
        try
        {
            await Within(Assert.ThrowsAsync<EngineFaultException>(() => engine.GenerateAsync(new GenerationRequest([7], Greedy(3)))), "the failing request");
            Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(Waits.Timeout).Token), "the engine should be idle");
        }
        finally
        {
            await engine.DisposeAsync();
            outer.Stop();
        }

        var span = Assert.Single(spans.Stopped);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(typeof(EngineFaultException).FullName, span.GetTagItem("error.type"));
        Assert.Equal("error", EventTag(span, FinishedEvent, FinishReasonLabel));
        Assert.Equal([QueuedEvent, ScheduledEvent, FinishedEvent], EventNames(span));
    }

    [Fact]
    public async Task RequestsEndedByTheEngineStoppingEndTheirSpans()
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
        var (outer, spans) = SpanRecorder.StartTrace();
        using var _ = spans;
        var engine = NewEngine(runner);
        try
        {
            var a = engine.Submit(new GenerationRequest([4], Greedy(20)));
            Wait(entered, "the second step");
            var disposing = engine.DisposeAsync().AsTask();
            gate.Set();
            await Within(disposing, "the engine to stop");
            await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.CollectAsync()), "the stopped stream");
            // Refused at once after the stop: no span is left open for it.
            Assert.Throws<RequestRejectedException>(() => engine.Submit(new GenerationRequest([4], Greedy(2))));
        }
        finally
        {
            gate.Set();
            await engine.DisposeAsync();
            outer.Stop();
        }

        var span = Assert.Single(spans.Stopped);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("abort", EventTag(span, FinishedEvent, FinishReasonLabel));
        Assert.Equal(1, spans.Started);
    }
}
