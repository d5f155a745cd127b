using System.Diagnostics;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Workers;
using static OrleansInfer.Grains.Telemetry.ClusterTelemetryNames;

namespace OrleansInfer.Grains.Telemetry;

/// <summary>The router's and the workers' spans; every call is a no-op for a null span (no listener wanted it).</summary>
internal static class ClusterSpans
{
    /// <summary>The placement span, current on the caller's flow until disposed (the router's method is async: the change stays in it).</summary>
    public static Activity? StartPlace(string model, string silo, string policy, PlacementRequest request)
    {
        var span = ClusterInstruments.Source.StartActivity(PlaceSpan, ActivityKind.Internal);
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(ModelLabel, model);
        span.SetTag(SiloLabel, silo);
        span.SetTag(PolicyLabel, policy);
        span.SetTag(ResumedAttribute, request.ResumedTokens > 0 || request.Exclude.Length > 0);
        return span;
    }

    /// <summary>The worker's span of one request; it is made current (the engine's span, started while it is, is its child).</summary>
    public static Activity? StartGenerate(WorkerState worker, GenerateRequest request, bool resumed)
    {
        var span = ClusterInstruments.Source.StartActivity(GenerateSpan, ActivityKind.Internal);
        if (span is not { IsAllDataRequested: true }) return span;
        foreach (var label in worker.Labels) span.SetTag(label.Key, label.Value);
        span.SetTag(RequestIdAttribute, request.RequestId);
        span.SetTag(ResumedAttribute, resumed);
        return span;
    }

    /// <summary>Marks <paramref name="span"/> failed with <paramref name="error"/>, which it returns (for <c>throw Fail(...)</c>).</summary>
    public static Exception Fail(Activity? span, Exception error)
    {
        if (span is null) return error;
        span.SetTag("error.type", error is ClusterRejectedException r ? r.Reason.ToString() : error.GetType().FullName);
        span.SetStatus(ActivityStatusCode.Error, error.Message);
        return error;
    }

    /// <summary>Stops <paramref name="span"/> without changing this flow's current activity (Stop would make the span's parent current).</summary>
    public static void Stop(Activity? span)
    {
        if (span is null) return;
        var current = Activity.Current;
        span.Stop();
        Activity.Current = current;
    }
}
