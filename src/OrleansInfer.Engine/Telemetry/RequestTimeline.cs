using System.Diagnostics;

namespace OrleansInfer.Engine.Telemetry;

/// <summary>
/// One request's moments in the engine (Stopwatch timestamps; 0: not yet), the tokens it generated here and its span.
/// Created with the request on the submitting thread; after the hand-off to the engine thread only that thread touches it.
/// </summary>
internal sealed class RequestTimeline
{
    /// <summary>Submission.</summary>
    public long Arrival { get; } = Stopwatch.GetTimestamp();

    /// <summary>The step that first scheduled it (its prefill started).</summary>
    public long FirstScheduled { get; set; }

    public long FirstToken { get; set; }

    public long LastToken { get; set; }

    /// <summary>True while in the running set as the telemetry saw it (admitted, not preempted since).</summary>
    public bool Running { get; set; }

    public int Preemptions { get; set; }

    /// <summary>Tokens sampled for the request on this engine (every output, best_of candidates and beams included; resumed ones not).</summary>
    public int GeneratedTokens { get; set; }

    /// <summary>Its span; null when no listener wanted one.</summary>
    public Activity? Span { get; set; }

    /// <summary>True once its end was recorded.</summary>
    public bool Ended { get; set; }
}
