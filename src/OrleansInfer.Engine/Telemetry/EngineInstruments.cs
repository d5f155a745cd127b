using System.Diagnostics;
using System.Diagnostics.Metrics;
using static OrleansInfer.Engine.Telemetry.EngineTelemetryNames;

namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// The process's one engine Meter and ActivitySource and their instruments. Every engine records into the same
/// instruments with its own labels: one Meter per engine would break exporters, which merge same-named instruments of
/// same-named meters into one stream and drop that stream when any of those meters is disposed. The observable gauges
/// read the engines registered here, held weakly, so an engine that was never disposed does not stay alive for them.
/// </summary>
internal static class EngineInstruments
{
    /// <summary>Time to first token, queue and prefill time: vLLM's TTFT buckets.</summary>
    public static readonly double[] FirstTokenBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];

    /// <summary>Inter-token latency: vLLM's buckets below which a few for small models on fast devices.</summary>
    public static readonly double[] InterTokenBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];

    /// <summary>End-to-end and decode time: vLLM's request latency buckets, with a few below 0.3 s.</summary>
    public static readonly double[] RequestBuckets =
        [0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

    private static readonly Lock RegistryLock = new();
    private static readonly List<WeakReference<EngineTelemetry>> Registered = [];

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(SourceName);

    public static readonly Counter<long> Preempted = Meter.CreateCounter<long>(Preemptions, "{preemption}", "Running requests preempted (their KV blocks freed, recomputed later)");
    public static readonly Counter<long> PrefixQueries = Meter.CreateCounter<long>(PrefixCacheQueries, "{token}", "Tokens looked up in the prefix cache when requests were admitted");
    public static readonly Counter<long> PrefixHits = Meter.CreateCounter<long>(PrefixCacheHits, "{token}", "Tokens found in the prefix cache when requests were admitted");
    public static readonly Counter<long> Prompt = Meter.CreateCounter<long>(PromptTokens, "{token}", "Prompt tokens of requests that produced their first token");
    public static readonly Counter<long> Generation = Meter.CreateCounter<long>(GenerationTokens, "{token}", "Tokens generated");
    public static readonly Counter<long> Finished = Meter.CreateCounter<long>(RequestsFinished, "{request}", "Requests that ended, by finish reason");

    public static readonly Histogram<double> Queue = Histogram(QueueTime, "Time from submission to first scheduling", FirstTokenBuckets);
    public static readonly Histogram<double> Prefill = Histogram(PrefillTime, "Time from first scheduling to the first token", FirstTokenBuckets);
    public static readonly Histogram<double> Decode = Histogram(DecodeTime, "Time from the first token to the last", RequestBuckets);
    public static readonly Histogram<double> InterToken = Histogram(InterTokenLatency, "Time between two steps that gave a request tokens", InterTokenBuckets);
    public static readonly Histogram<double> FirstToken = Histogram(TimeToFirstToken, "Time from submission to the first token", FirstTokenBuckets);
    public static readonly Histogram<double> Duration = Histogram(RequestDuration, "Time from submission to the end of a finished request, in the engine", RequestBuckets);

    static EngineInstruments()
    {
        Meter.CreateObservableGauge(RequestsRunning, () => Observe<int>(static (t, list) => t.ObserveRunning(list)), "{request}", "Requests in the running set");
        Meter.CreateObservableGauge(RequestsWaiting, () => Observe<int>(static (t, list) => t.ObserveWaiting(list)), "{request}", "Requests waiting for admission");
        Meter.CreateObservableGauge(KvCacheUsage, () => Observe<double>(static (t, list) => t.ObserveUsage(list)), "1", "Fraction of KV blocks held by requests (0 to 1)");
        Meter.CreateObservableGauge(KvCacheBlocks, () => Observe<int>(static (t, list) => t.ObserveBlocks(list)), "{block}", "KV blocks by state: used, free, cached");
    }

    private static Histogram<double> Histogram(string name, string description, double[] buckets) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });

    /// <summary>Makes <paramref name="telemetry"/>'s gauges visible until <see cref="Unregister"/> (or until it is collected).</summary>
    public static void Register(EngineTelemetry telemetry)
    {
        lock (RegistryLock) Registered.Add(new WeakReference<EngineTelemetry>(telemetry));
    }

    public static void Unregister(EngineTelemetry telemetry)
    {
        lock (RegistryLock) Registered.RemoveAll(w => !w.TryGetTarget(out var t) || ReferenceEquals(t, telemetry));
    }

    private static List<Measurement<T>> Observe<T>(Action<EngineTelemetry, List<Measurement<T>>> observe) where T : struct
    {
        var list = new List<Measurement<T>>();
        foreach (var t in Live()) observe(t, list);
        return list;
    }

    private static List<EngineTelemetry> Live()
    {
        var live = new List<EngineTelemetry>();
        lock (RegistryLock)
        {
            // Engines collected without being disposed drop out here.
            Registered.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (var w in Registered)
            {
                if (w.TryGetTarget(out var t)) live.Add(t);
            }
        }
        return live;
    }
}
