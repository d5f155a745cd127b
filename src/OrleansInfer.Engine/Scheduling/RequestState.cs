using System.Threading.Channels;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// A request inside the engine: the unit the scheduler admits, preempts and finishes. It holds one sequence until
/// its prompt is computed, then as many as it samples in parallel (best_of) or searches (beams), and the
/// channel its caller reads chunks from.
/// </summary>
internal sealed class RequestState
{
    public RequestState(long id, int[] prompt, SamplingParams sampling, int priority, long arrival)
    {
        Id = id;
        Prompt = prompt;
        Sampling = sampling;
        Priority = priority;
        Arrival = arrival;
        PromptSet = sampling.RepetitionPenalty != 1f ? prompt.ToHashSet() : EmptySet;
    }

    private static readonly HashSet<int> EmptySet = [];

    public long Id { get; }

    public int[] Prompt { get; }

    public SamplingParams Sampling { get; }

    public int Priority { get; }

    /// <summary>Order of submission (FCFS key and tie-breaker).</summary>
    public long Arrival { get; }

    /// <summary>Order of the latest admission to the running set (the newest is preempted first).</summary>
    public long AdmitOrder { get; set; }

    public IReadOnlySet<int> PromptSet { get; }

    /// <summary>Sequences still generating (waiting or running).</summary>
    public List<Sequence> Live { get; } = [];

    /// <summary>Sequences that ended (kept for best_of selection and usage).</summary>
    public List<Sequence> Done { get; } = [];

    /// <summary>Finished beam hypotheses (beam search only).</summary>
    public List<Sequence> Hypotheses { get; } = [];

    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

    /// <summary>True once the prompt's logits were sampled and the request fanned out to its width.</summary>
    public bool Expanded { get; set; }

    /// <summary>True until the request is first admitted (it then stops counting against the queue bounds).</summary>
    public bool CountsAgainstQueue { get; set; } = true;

    public int CachedPromptTokens { get; set; }

    public bool Aborted { get; set; }

    public bool IsFinished => Live.Count == 0;

    public bool IsBeamSearch => Sampling.IsBeamSearch;

    public long SubmittedTicks { get; init; }

    public long FirstTokenTicks { get; set; }
}
