using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Generation;

/// <summary>A tokenized prompt and how to continue it; lower <see cref="Priority"/> values are served first under the priority policy.</summary>
public sealed record GenerationRequest(int[] PromptTokens, SamplingParams Sampling)
{
    public int Priority { get; init; }

    /// <summary>
    /// Outputs this request already produced elsewhere (a request moved between workers, or recovered after a
    /// failure). Listed unfinished outputs continue from their tokens; listed finished ones only count; every other
    /// output starts from the prompt with the generator a fresh run gives it, so a seeded or greedy request ends
    /// exactly as a fault-free run would. Beam search cannot be resumed.
    /// </summary>
    public IReadOnlyList<ResumedOutput> Resumed { get; init; } = [];

    /// <summary>
    /// For best_of &gt; n: also emit progress chunks (<see cref="Outputs.GenerationChunk.IsProgress"/>) for every
    /// candidate sequence as it grows, the record a client needs to resume the request elsewhere.
    /// </summary>
    public bool ReportProgress { get; init; }
}
