using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansInfer.Engine.Telemetry;

namespace OrleansInfer.Engine.Tests.Telemetry;

/// <summary>
/// Records the engine's stopped request spans of one trace: the test starts an outer activity and submits under it, so
/// spans of engines in other tests running in parallel (other traces) are ignored. Also counts starts and stops per span.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ActivityTraceId _trace;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentDictionary<ActivitySpanId, int> _stops = new();
    private int _started;

    public SpanRecorder(ActivityTraceId trace)
    {
        _trace = trace;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EngineTelemetryNames.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a =>
            {
                if (a.TraceId == _trace) Interlocked.Increment(ref _started);
            },
            ActivityStopped = a =>
            {
                if (a.TraceId != _trace) return;
                _stops.AddOrUpdate(a.SpanId, 1, (_, n) => n + 1);
                _stopped.Enqueue(a);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>An outer activity (the caller's context) and a recorder of its trace; the activity is current until disposed.</summary>
    public static (Activity Outer, SpanRecorder Spans) StartTrace()
    {
        var outer = new Activity("test-caller").SetIdFormat(ActivityIdFormat.W3C).Start();
        return (outer, new SpanRecorder(outer.TraceId));
    }

    public int Started => Volatile.Read(ref _started);

    public IReadOnlyList<Activity> Stopped => _stopped.ToList();

    /// <summary>How many times each span was stopped (every one must be 1).</summary>
    public IReadOnlyDictionary<ActivitySpanId, int> Stops => _stops;

    public void Dispose() => _listener.Dispose();
}
