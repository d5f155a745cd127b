using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Gateway.Telemetry;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>A measurement of the gateway's meter: instrument, value and attributes.</summary>
public sealed record GenAiMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var v) ? v?.ToString() : null;
}

/// <summary>
/// Listens to the GenAI meter of ONE gateway (its meter comes from that host's IMeterFactory, so other gateways in the
/// test process are not heard).
/// </summary>
public sealed class GenAiMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<GenAiMeasurement> _all = new();

    public GenAiMeasurements(IServiceProvider gatewayServices)
    {
        var scope = gatewayServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GenAi.SourceName && ReferenceEquals(instrument.Meter.Scope, scope)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    public IReadOnlyList<GenAiMeasurement> All => [.. _all];

    public IReadOnlyList<GenAiMeasurement> Of(string instrument) => [.. _all.Where(m => m.Instrument == instrument)];

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags) copy[tag.Key] = tag.Value;
        _all.Enqueue(new GenAiMeasurement(instrument.Name, value, copy));
    }

    /// <summary>
    /// Waits until <paramref name="count"/> request durations are recorded (a request is recorded once its response
    /// has ended, which the client may see first).
    /// </summary>
    public Task WaitForRequestsAsync(int count) =>
        TelemetryKit.EventuallyAsync(() => Of("gen_ai.server.request.duration").Count >= count, $"{count} gen_ai.server.request.duration measurements");

    public void Dispose() => _listener.Dispose();
}

/// <summary>Records the spans of the gateway's source and of ASP.NET Core that belong to traces a test names.</summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is GenAi.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> InTrace(ActivityTraceId trace) => [.. _stopped.Where(a => a.TraceId == trace)];

    /// <summary>
    /// The gateway's request span in <paramref name="trace"/>, once it and the ASP.NET Core server span around it have
    /// ended (the server span ends after the response, the client may be done before).
    /// </summary>
    public async Task<Activity> GatewaySpanAsync(ActivityTraceId trace)
    {
        Activity? span = null;
        await TelemetryKit.EventuallyAsync(() =>
        {
            var spans = InTrace(trace);
            span = spans.FirstOrDefault(a => a.Source.Name == GenAi.SourceName);
            return span is not null && spans.Any(a => a.Source.Name == "Microsoft.AspNetCore");
        }, $"an ended span of source {GenAi.SourceName} and one of Microsoft.AspNetCore in trace {trace}");
        return span!;
    }

    public void Dispose() => _listener.Dispose();
}

public static class TelemetryKit
{
    /// <summary>A unique model id, so a test's series and spans are told from those of tests running beside it.</summary>
    public static string UniqueModelId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    /// <summary>A W3C traceparent for a new trace: the header value, its trace id and the caller's span id.</summary>
    public static (string Header, ActivityTraceId Trace, ActivitySpanId Parent) NewTraceparent()
    {
        var trace = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        return ($"00-{trace.ToHexString()}-{parent.ToHexString()}-01", trace, parent);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or 15 s pass; then fails naming what was expected.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"expected {expected} within the timeout");
            await Task.Delay(20);
        }
    }

    /// <summary>An HttpClient that adds no trace headers of its own (the test sets traceparent itself).</summary>
    public static HttpClient Http(Uri address) =>
        new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
}
