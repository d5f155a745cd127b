using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Scheduling;
using static OrleansInfer.Engine.Telemetry.EngineTelemetryNames;
using I = OrleansInfer.Engine.Telemetry.EngineInstruments;

namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// One engine's metrics and request spans, recorded into the process's <see cref="EngineInstruments"/> under the engine's
/// labels. Counters and histograms are recorded on the engine thread where things happen (admission, preemption, tokens,
/// the end of a request); the gauges read the snapshots the engine publishes, never the scheduler. Timings follow vLLM:
/// queue = submission → first scheduled, prefill = first scheduled → first token, decode = first token → last token,
/// duration = submission → end; the four are recorded for requests that finished (stop or length), the finished counter
/// counts every end. Nothing is allocated per token: labels are prebuilt, spans exist only when a listener wants them.
/// </summary>
internal sealed class EngineTelemetry : IDisposable
{
    private readonly bool _prefixCaching;
    private volatile TagSet _tags;
    private volatile LoadPublisher? _publisher;

    public EngineTelemetry(TelemetryLabels labels, bool prefixCaching)
    {
        _tags = new TagSet(labels);
        _prefixCaching = prefixCaching;
    }

    /// <summary>The labels of the next measurements (a host may complete them once it knows the worker's identity).</summary>
    public TelemetryLabels Labels
    {
        get => _tags.Labels;
        set => _tags = new TagSet(value);
    }

    /// <summary>Starts the gauges over <paramref name="publisher"/>'s snapshots (until <see cref="Dispose"/>).</summary>
    public void Observe(LoadPublisher publisher)
    {
        _publisher = publisher;
        I.Register(this);
    }

    public void Dispose()
    {
        I.Unregister(this);
        _publisher = null;
    }

    /// <summary>On the submitting thread, before the hand-off: the request's span, a child of the caller's current activity.</summary>
    public void Submitted(RequestState r)
    {
        if (I.Source.HasListeners()) r.Timeline.Span = RequestSpans.Start(r, _tags.Labels);
    }

    /// <summary>The request never reached the engine thread (refused after its span started).</summary>
    public static void Discard(RequestState r, Exception error) => RequestSpans.End(r, FinishNames[(int)End.Abort], error);

    /// <summary>Engine thread, after scheduling: the step's requests not running before were admitted (first time or after a preemption).</summary>
    public void Scheduled(List<RequestState> stepRequests)
    {
        long now = 0, queried = 0, hit = 0;
        foreach (var r in stepRequests)
        {
            var t = r.Timeline;
            if (t.Running) continue;
            if (now == 0) now = Stopwatch.GetTimestamp();
            t.Running = true;
            if (t.FirstScheduled == 0) t.FirstScheduled = now;
            if (_prefixCaching)
            {
                // What admission looked up and found, as vLLM counts: the sequences' tokens, and those the cache gave them.
                foreach (var s in r.Live)
                {
                    queried += s.Tokens.Count;
                    hit += s.ComputedTokens;
                }
            }
            RequestSpans.Scheduled(t);
        }
        if (queried == 0) return;
        var tags = _tags.Common;
        I.PrefixQueries.Add(queried, tags);
        I.PrefixHits.Add(hit, tags);
    }

    /// <summary>Engine thread: the scheduler preempted <paramref name="r"/>.</summary>
    public void Preempted(RequestState r)
    {
        I.Preempted.Add(1, _tags.Common);
        var t = r.Timeline;
        t.Running = false;
        t.Preemptions++;
        RequestSpans.Preempted(t);
    }

    /// <summary>Engine thread, after sampling <paramref name="r"/> in a step that ended at <paramref name="now"/>.</summary>
    public void Sampled(RequestState r, int generatedBefore, long now)
    {
        var t = r.Timeline;
        var n = t.GeneratedTokens - generatedBefore;
        if (n <= 0) return;
        var tags = _tags.Common;
        I.Generation.Add(n, tags);
        if (t.FirstToken == 0)
        {
            t.FirstToken = now;
            I.Prompt.Add(r.Prompt.Length, tags);
            I.FirstToken.Record(Seconds(now - t.Arrival), tags);
            RequestSpans.FirstToken(t);
        }
        else
        {
            I.InterToken.Record(Seconds(now - t.LastToken), tags);
        }
        t.LastToken = now;
    }

    /// <summary>Engine thread, once per request, however it ended (null <paramref name="error"/>: it finished).</summary>
    public void Ended(RequestState r, Exception? error)
    {
        var t = r.Timeline;
        if (t.Ended) return;
        t.Ended = true;
        var now = Stopwatch.GetTimestamp();
        var tags = _tags;
        var end = error is null ? FinishOf(r) : error is OperationCanceledException ? End.Abort : End.Error;
        I.Finished.Add(1, tags.Finished[(int)end]);
        if (error is null)
        {
            var common = tags.Common;
            if (t.FirstScheduled != 0) I.Queue.Record(Seconds(t.FirstScheduled - t.Arrival), common);
            if (t.FirstToken != 0)
            {
                I.Prefill.Record(Seconds(t.FirstToken - t.FirstScheduled), common);
                I.Decode.Record(Seconds(t.LastToken - t.FirstToken), common);
            }
            I.Duration.Record(Seconds(now - t.Arrival), common);
        }
        RequestSpans.End(r, FinishNames[(int)end], error);
    }

    internal void ObserveRunning(List<Measurement<int>> list)
    {
        if (_publisher is { } p) list.Add(new Measurement<int>(p.Load.RunningRequests, _tags.Common));
    }

    internal void ObserveWaiting(List<Measurement<int>> list)
    {
        if (_publisher is { } p) list.Add(new Measurement<int>(p.Load.WaitingRequests, _tags.Common));
    }

    internal void ObserveUsage(List<Measurement<double>> list)
    {
        if (_publisher is not { } p) return;
        var kv = p.KvCache;
        list.Add(new Measurement<double>(kv.TotalBlocks == 0 ? 0 : (double)kv.UsedBlocks / kv.TotalBlocks, _tags.Common));
    }

    internal void ObserveBlocks(List<Measurement<int>> list)
    {
        if (_publisher is not { } p) return;
        var kv = p.KvCache;
        var tags = _tags;
        // A partition of the pool: used + free + cached = total (cached blocks are free ones still holding a prefix).
        list.Add(new Measurement<int>(kv.UsedBlocks, tags.Used));
        list.Add(new Measurement<int>(kv.FreeBlocks - kv.CachedBlocks, tags.Free));
        list.Add(new Measurement<int>(kv.CachedBlocks, tags.Cached));
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    /// <summary>A finished request's reason: length when any of its outputs ran into a length limit, else stop.</summary>
    private static End FinishOf(RequestState r)
    {
        foreach (var s in r.IsBeamSearch ? r.Hypotheses : r.Done)
        {
            if (s.Finish != FinishReason.Stop) return End.Length;
        }
        return End.Stop;
    }

    private enum End
    {
        Stop,
        Length,
        Abort,
        Error,
    }

    private static readonly string[] FinishNames = ["stop", "length", "abort", "error"];

    /// <summary>The label sets of one set of labels, built once (measurements copy nothing else).</summary>
    private sealed class TagSet
    {
        public TagSet(TelemetryLabels labels)
        {
            Labels = labels;
            Common =
            [
                new(ModelLabel, labels.Model), new(WorkerLabel, labels.Worker), new(SiloLabel, labels.Silo), new(DeviceLabel, labels.Device ?? ""),
            ];
            Finished = Array.ConvertAll(FinishNames, reason => With(FinishReasonLabel, reason));
            Used = With(StateLabel, "used");
            Free = With(StateLabel, "free");
            Cached = With(StateLabel, "cached");
        }

        public TelemetryLabels Labels { get; }

        public KeyValuePair<string, object?>[] Common { get; }

        public KeyValuePair<string, object?>[][] Finished { get; }

        public KeyValuePair<string, object?>[] Used { get; }

        public KeyValuePair<string, object?>[] Free { get; }

        public KeyValuePair<string, object?>[] Cached { get; }

        private KeyValuePair<string, object?>[] With(string key, string value) => [.. Common, new(key, value)];
    }
}
