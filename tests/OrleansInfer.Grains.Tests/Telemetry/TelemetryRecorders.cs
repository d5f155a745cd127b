using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansInfer.Grains.Tests.Telemetry;

/// <summary>
/// Measurements of the meters named, kept only when their labels pass a filter (the instruments are process-wide and
/// other test clusters run meanwhile: a test filters on labels only its own grains use).
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Func<IReadOnlyDictionary<string, object?>, bool> _filter;
    private readonly ConcurrentQueue<(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)> _measurements = new();

    public MetricRecorder(string meter, Func<IReadOnlyDictionary<string, object?>, bool> filter)
    {
        _filter = filter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public void ReadGauges() => _listener.RecordObservableInstruments();

    public List<(double Value, IReadOnlyDictionary<string, object?> Tags)> Of(string instrument) =>
        _measurements.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags)).ToList();

    /// <summary>The sum of <paramref name="instrument"/>'s measurements whose label <paramref name="label"/> is <paramref name="value"/>.</summary>
    public double Sum(string instrument, string label, string value) =>
        Of(instrument).Where(m => Equals(m.Tags.GetValueOrDefault(label), value)).Sum(m => m.Value);

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var map = new Dictionary<string, object?>();
        foreach (var t in tags) map[t.Key] = t.Value;
        if (_filter(map)) _measurements.Enqueue((instrument.Name, Convert.ToDouble(value), map));
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>
/// The stopped spans of one trace, from our sources and Orleans' (whose grain-call spans carry the context from the
/// client to the grains). The test starts the trace's outer activity, so other tests' traces are ignored.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    private SpanRecorder(ActivityTraceId trace)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("OrleansInfer.", StringComparison.Ordinal) || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.TraceId == trace) _stopped.Enqueue(a);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>An outer activity (current until stopped) and a recorder of its trace.</summary>
    public static (Activity Outer, SpanRecorder Spans) StartTrace()
    {
        var outer = new Activity("test-client").SetIdFormat(ActivityIdFormat.W3C).Start();
        return (outer, new SpanRecorder(outer.TraceId));
    }

    public List<Activity> Named(string name) => _stopped.Where(a => a.OperationName == name).ToList();

    /// <summary>Waits (bounded) until <paramref name="count"/> spans named <paramref name="name"/> have stopped: they end after their callers see the stream end.</summary>
    public async Task<List<Activity>> WaitFor(string name, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Named(name).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"expected {count} stopped '{name}' span(s) in the trace within 20 s, got {Named(name).Count}; stopped: [{string.Join(", ", _stopped.Select(a => a.OperationName))}]");
            await Task.Delay(20);
        }
        return Named(name);
    }

    public void Dispose() => _listener.Dispose();
}
