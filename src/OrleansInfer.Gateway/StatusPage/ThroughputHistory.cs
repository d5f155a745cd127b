namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// Tokens per second of each worker over the last minutes, as <see cref="ThroughputSampler"/> samples them: samples
/// older than the window are dropped, and a read gives arrays aligned on the sample times (the page's sparklines).
/// </summary>
public sealed class ThroughputHistory(TimeSpan window)
{
    private readonly Queue<Sample> _samples = new();
    private readonly Lock _lock = new();

    /// <summary>How far back the history reaches.</summary>
    public TimeSpan Window => window;

    /// <summary>Records every worker's tokens per second at <paramref name="time"/> (samples arrive in time order).</summary>
    public void Add(DateTimeOffset time, IReadOnlyDictionary<string, double> tokensPerSecond)
    {
        var sample = new Sample(time, new Dictionary<string, double>(tokensPerSecond, StringComparer.Ordinal));
        lock (_lock)
        {
            _samples.Enqueue(sample);
            while (time - _samples.Peek().Time > window) _samples.Dequeue();
        }
    }

    /// <summary>The samples: times, the cluster's total, and each worker's values (null where it did not report).</summary>
    public ThroughputSeries Read()
    {
        Sample[] samples;
        lock (_lock) samples = _samples.ToArray();
        var keys = samples.SelectMany(s => s.Workers.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return new ThroughputSeries(
            [.. samples.Select(s => s.Time)],
            [.. samples.Select(s => s.Workers.Values.Sum())],
            keys.ToDictionary(k => k, k => samples.Select(s => s.Workers.TryGetValue(k, out var v) ? v : (double?)null).ToArray(), StringComparer.Ordinal));
    }

    private sealed record Sample(DateTimeOffset Time, Dictionary<string, double> Workers);
}

/// <summary>Sampled throughput: <see cref="Total"/> and every worker's array are aligned with <see cref="Times"/>.</summary>
public sealed record ThroughputSeries(
    IReadOnlyList<DateTimeOffset> Times,
    IReadOnlyList<double> Total,
    IReadOnlyDictionary<string, double?[]> Workers);
