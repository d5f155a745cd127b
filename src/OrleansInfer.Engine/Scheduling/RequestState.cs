using System.Threading.Channels;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Telemetry;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// A request inside the engine: the unit the scheduler admits, preempts and finishes. It holds one sequence until
/// its prompt is computed, then as many as it samples in parallel (best_of) or searches (beams), and the
/// channel its caller reads chunks from.
/// </summary>
internal sealed class RequestState
{
    private static readonly HashSet<int> EmptySet = [];
    private volatile bool _isWaiting = true;

    public RequestState(long id, int[] prompt, SamplingParams sampling, int priority, long arrival)
    {
        Id = id;
        Prompt = prompt;
        Sampling = sampling;
        Priority = priority;
        Arrival = arrival;
        PromptSet = sampling.RepetitionPenalty != 1f ? prompt.ToHashSet() : EmptySet;
    }

    public long Id { get; }

    public int[] Prompt { get; }

    public SamplingParams Sampling { get; }

    public int Priority { get; }

    /// <summary>Order of submission (FCFS key and tie-breaker).</summary>
    public long Arrival { get; }

    /// <summary>Order of the latest admission to the running set (the newest is preempted first).</summary>
    public long AdmitOrder { get; set; }

    public IReadOnlySet<int> PromptSet { get; }

    /// <summary>Emit progress chunks for best_of candidates.</summary>
    public bool ReportProgress { get; init; }

    /// <summary>Sequences still generating (waiting or running).</summary>
    public List<Sequence> Live { get; } = [];

    /// <summary>Sequences that ended (kept for best_of selection and usage).</summary>
    public List<Sequence> Done { get; } = [];

    /// <summary>Finished beam hypotheses (beam search only).</summary>
    public List<Sequence> Hypotheses { get; } = [];

    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

    /// <summary>True once the prompt's logits were sampled and the request fanned out to its width.</summary>
    public bool Expanded { get; set; }

    /// <summary>
    /// The live outputs the request fans out to when its prompt's logits arrive, in index order (the first one is
    /// the prompt's own sequence); null: outputs 0..width-1, all fresh.
    /// </summary>
    public IReadOnlyList<PlannedOutput>? Plan { get; set; }

    /// <summary>True until the request is first admitted (it then stops counting against the queue bounds).</summary>
    public bool CountsAgainstQueue { get; private set; } = true;

    /// <summary>Tokens the request holds in the waiting queue's token bound until it leaves the queue.</summary>
    public long QueuedTokens { get; set; }

    public int CachedPromptTokens { get; set; }

    public bool Aborted { get; set; }

    public bool IsFinished => Live.Count == 0;

    public bool IsBeamSearch => Sampling.IsBeamSearch;

    /// <summary>
    /// Waiting for (re)admission to the running set: from submission until first admitted, and again after a
    /// preemption; false once running or ended. Written by the engine thread, read from any thread.
    /// </summary>
    public bool IsWaiting
    {
        get => _isWaiting;
        set => _isWaiting = value;
    }

    /// <summary>True once the output stream was ended (<see cref="Complete"/>).</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>Called once, when the stream ends, however it ends.</summary>
    public Action<RequestState>? Completed { get; set; }

    /// <summary>Its moments, generated tokens and span, for telemetry.</summary>
    public RequestTimeline Timeline { get; } = new();

    /// <summary>The engine's telemetry, told when the request ends; null records nothing.</summary>
    public EngineTelemetry? Telemetry { get; set; }

    /// <summary>Marks the request as admitted; true the first time only (it then leaves the queue bounds).</summary>
    public bool LeaveQueue()
    {
        if (!CountsAgainstQueue) return false;
        CountsAgainstQueue = false;
        return true;
    }

    /// <summary>Ends the output stream, with <paramref name="error"/> or successfully; only the first call counts.</summary>
    public void Complete(Exception? error = null)
    {
        IsWaiting = false;
        if (IsCompleted) return;
        IsCompleted = true;
        Output.Writer.TryComplete(error);
        Completed?.Invoke(this);
        Telemetry?.Ended(this, error);
    }
}

/// <summary>One live output of a request at its fan-out: its index, and what it already produced elsewhere (null: fresh).</summary>
internal readonly record struct PlannedOutput(int Index, ResumedOutput? Resumed);
