using OrleansInfer.Gateway.StatusPage;

namespace OrleansInfer.Gateway.Tests.StatusPage;

public sealed class ThroughputHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SeriesAreAlignedOnTheSampleTimesWithGapsWhereAWorkerWasAbsent()
    {
        var history = new ThroughputHistory(TimeSpan.FromMinutes(10));
        history.Add(T0, new Dictionary<string, double> { ["b"] = 1, ["a"] = 2 });
        history.Add(T0.AddSeconds(2), new Dictionary<string, double> { ["a"] = 3 });
        history.Add(T0.AddSeconds(4), new Dictionary<string, double> { ["c"] = 4, ["a"] = 5 });

        var series = history.Read();
        Assert.Equal([T0, T0.AddSeconds(2), T0.AddSeconds(4)], series.Times);
        Assert.Equal([3.0, 3.0, 9.0], series.Total);
        Assert.Equal(["a", "b", "c"], series.Workers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([2.0, 3.0, 5.0], series.Workers["a"]);
        Assert.Equal([1.0, null, null], series.Workers["b"]);
        Assert.Equal([null, null, 4.0], series.Workers["c"]);
    }

    [Fact]
    public void SamplesOlderThanTheWindowAreDropped()
    {
        var history = new ThroughputHistory(TimeSpan.FromSeconds(10));
        for (var s = 0; s <= 20; s += 2) history.Add(T0.AddSeconds(s), new Dictionary<string, double> { ["a"] = s });

        var series = history.Read();
        Assert.Equal([10.0, 12, 14, 16, 18, 20], series.Total);
        Assert.Equal(T0.AddSeconds(10), series.Times[0]);
        Assert.Equal(6, series.Workers["a"].Length);
    }
}
