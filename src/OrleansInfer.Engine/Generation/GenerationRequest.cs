using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Generation;

/// <summary>A prompt, already tokenized, and how to sample its continuation.</summary>
public sealed record GenerationRequest(int[] PromptTokens, SamplingParams Sampling);

/// <summary>The generated tokens of one request and why generation ended.</summary>
public sealed record GenerationResult(int[] PromptTokens, int[] Tokens, FinishReason FinishReason);
