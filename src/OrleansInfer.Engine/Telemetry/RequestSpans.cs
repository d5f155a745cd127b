using System.Diagnostics;
using OrleansInfer.Engine.Scheduling;
using static OrleansInfer.Engine.Telemetry.EngineTelemetryNames;

namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// The <c>orleansinfer.engine.request</c> span of a request: started at submission as a child of the caller's current
/// activity (which stays current for the caller), events <c>queued</c>, <c>scheduled</c>, <c>first_token</c>,
/// <c>preempted</c>, <c>finished</c>, stopped once when the request ends (status Error when it was cancelled or failed).
/// Everything here is a no-op for a request without a span.
/// </summary>
internal static class RequestSpans
{
    public static Activity? Start(RequestState r, TelemetryLabels labels)
    {
        var previous = Activity.Current;
        var span = EngineInstruments.Source.StartActivity(RequestSpan, ActivityKind.Internal);
        // StartActivity made the span current on the caller's flow; the caller's context must not change.
        Activity.Current = previous;
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(RequestIdAttribute, r.Id);
        span.SetTag(ModelLabel, labels.Model);
        span.SetTag(WorkerLabel, labels.Worker);
        span.SetTag(SiloLabel, labels.Silo);
        span.SetTag(DeviceLabel, labels.Device);
        span.SetTag(PromptTokensAttribute, r.Prompt.Length);
        span.AddEvent(new ActivityEvent(QueuedEvent));
        return span;
    }

    public static void Scheduled(RequestTimeline t)
    {
        if (t.Span is not { IsAllDataRequested: true } span) return;
        span.AddEvent(t.Preemptions == 0
            ? new ActivityEvent(ScheduledEvent)
            : new ActivityEvent(ScheduledEvent, tags: new ActivityTagsCollection { [RecomputeAttribute] = true }));
    }

    public static void FirstToken(RequestTimeline t)
    {
        if (t.Span is { IsAllDataRequested: true } span) span.AddEvent(new ActivityEvent(FirstTokenEvent));
    }

    public static void Preempted(RequestTimeline t)
    {
        if (t.Span is { IsAllDataRequested: true } span) span.AddEvent(new ActivityEvent(PreemptedEvent));
    }

    /// <summary>Ends the span (once): the finished event with the reason and token counts, the error if any.</summary>
    public static void End(RequestState r, string finishReason, Exception? error)
    {
        var t = r.Timeline;
        if (t.Span is not { } span) return;
        t.Span = null;
        if (span.IsAllDataRequested)
        {
            span.SetTag(FinishReasonLabel, finishReason);
            span.SetTag(OutputTokensAttribute, t.GeneratedTokens);
            span.SetTag(CachedTokensAttribute, r.CachedPromptTokens);
            span.SetTag(PreemptionsAttribute, t.Preemptions);
            span.AddEvent(new ActivityEvent(FinishedEvent, tags: new ActivityTagsCollection
            {
                [FinishReasonLabel] = finishReason,
                [PromptTokensAttribute] = r.Prompt.Length,
                [OutputTokensAttribute] = t.GeneratedTokens,
            }));
        }
        if (error is not null)
        {
            span.SetTag("error.type", error is OperationCanceledException ? "cancelled" : error.GetType().FullName);
            span.SetStatus(ActivityStatusCode.Error, error.Message);
        }
        // Stop makes the span's previous activity current on this thread (the engine thread): keep this thread's own.
        var current = Activity.Current;
        span.Stop();
        Activity.Current = current;
    }
}
