using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Chat;

namespace OrleansInfer;

/// <summary>How <see cref="InferenceEngine.ChatAsync"/> renders the conversation and samples the reply.</summary>
public sealed record ChatRequestOptions
{
    public static ChatRequestOptions Default { get; } = new();

    /// <summary>Sampling of the reply (its <see cref="SamplingParams.MaxTokens"/> is replaced by <see cref="MaxTokens"/>).</summary>
    public SamplingParams Sampling { get; init; } = new();

    /// <summary>The most tokens of the reply; null lets it run as far as the context and the KV pool allow (as vLLM's chat API does).</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Tools offered, generation prompt and extra template variables.</summary>
    public ChatRenderOptions Render { get; init; } = ChatRenderOptions.Default;
}
