using System.Diagnostics.Metrics;
using OrleansInfer.Engine.Telemetry;

namespace OrleansInfer.Engine.Tests.Telemetry;

/// <summary>
/// Listens to the engine meter and keeps only the measurements labelled with one model, so tests with engines of other
/// models (running in parallel in this process) do not disturb the numbers. Gauges are read on <see cref="ReadGauges"/>.
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _model;
    private readonly Lock _lock = new();
    private readonly List<Measurement> _measurements = [];

    public MetricRecorder(string model)
    {
        _model = model;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineTelemetryNames.SourceName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public sealed record Measurement(string Instrument, string? Unit, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Asks every observable gauge for its values now (they arrive as measurements).</summary>
    public void ReadGauges() => _listener.RecordObservableInstruments();

    /// <summary>The measurements of <paramref name="instrument"/>, optionally only those with a label of that value.</summary>
    public List<Measurement> Of(string instrument, string? label = null, string? value = null)
    {
        lock (_lock)
        {
            return _measurements.Where(m => m.Instrument == instrument && (label is null || Equals(m.Tags.GetValueOrDefault(label), value))).ToList();
        }
    }

    public double Sum(string instrument, string? label = null, string? value = null) => Of(instrument, label, value).Sum(m => m.Value);

    public List<double> Values(string instrument) => Of(instrument).Select(m => m.Value).ToList();

    /// <summary>The last value a gauge reported (with that label value); fails when it reported none.</summary>
    public double Last(string gauge, string? label = null, string? value = null)
    {
        var all = Of(gauge, label, value);
        Assert.True(all.Count > 0, $"{gauge} ({label}={value}) reported nothing for model {_model}");
        return all[^1].Value;
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var map = new Dictionary<string, object?>();
        foreach (var t in tags) map[t.Key] = t.Value;
        if (!Equals(map.GetValueOrDefault(EngineTelemetryNames.ModelLabel), _model)) return;
        lock (_lock) _measurements.Add(new Measurement(instrument.Name, instrument.Unit, Convert.ToDouble(value), map));
    }

    public void Dispose() => _listener.Dispose();
}
