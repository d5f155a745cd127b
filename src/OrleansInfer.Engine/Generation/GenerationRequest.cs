using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Generation;

/// <summary>A tokenized prompt and how to continue it; lower <see cref="Priority"/> values are served first under the priority policy.</summary>
public sealed record GenerationRequest(int[] PromptTokens, SamplingParams Sampling)
{
    public int Priority { get; init; }

    /// <summary>
    /// Tokens this request already generated elsewhere (a request moved between workers, or recovered after a
    /// failure): they are recomputed, count towards max_tokens, and are not sent again.
    /// </summary>
    public int[] ResumeTokens { get; init; } = [];

    /// <summary>The sampler's state after <see cref="ResumeTokens"/> (sampled requests), so the continuation is the same.</summary>
    public (ulong, ulong, ulong, ulong)? RngState { get; init; }
}
