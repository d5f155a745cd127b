using System.Text.Json;
using Microsoft.Extensions.AI;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Chat;

namespace OrleansInfer.AI;

/// <summary>Microsoft.Extensions.AI's <see cref="ChatOptions"/> to the engine's sampling and the template's tools.</summary>
internal static class ChatOptionsMapping
{
    /// <summary>Sampling for the reply; a null field keeps the engine's default.</summary>
    public static SamplingParams ToSampling(ChatOptions? options)
    {
        var p = new SamplingParams();
        if (options is null) return p;
        if (options.Temperature is { } temperature) p = p with { Temperature = temperature };
        if (options.TopP is { } topP) p = p with { TopP = topP };
        if (options.TopK is { } topK) p = p with { TopK = topK };
        if (options.StopSequences is { Count: > 0 } stop) p = p with { Stop = [.. stop] };
        if (options.Seed is { } seed) p = p with { Seed = unchecked((ulong)seed) };
        if (options.FrequencyPenalty is { } frequency) p = p with { FrequencyPenalty = frequency };
        if (options.PresencePenalty is { } presence) p = p with { PresencePenalty = presence };
        return p;
    }

    public static ChatRenderOptions ToRender(ChatOptions? options)
    {
        if (options?.ResponseFormat is ChatResponseFormatJson)
            throw new NotSupportedException("structured output (a JSON response format) is not supported by this engine yet");
        if (options?.Tools is not { Count: > 0 } tools) return ChatRenderOptions.Default;
        var mapped = new List<ChatTool>(tools.Count);
        foreach (var tool in tools)
        {
            if (tool is not AIFunctionDeclaration function)
                throw new NotSupportedException($"tool {tool.Name} ({tool.GetType().Name}) is not supported: only functions are");
            mapped.Add(new ChatTool(function.Name, function.Description, function.JsonSchema.ValueKind == JsonValueKind.Undefined ? null : function.JsonSchema.GetRawText()));
        }
        return new ChatRenderOptions { Tools = mapped };
    }

    public static ChatFinishReason ToFinishReason(Engine.Generation.FinishReason reason) => reason switch
    {
        Engine.Generation.FinishReason.Stop => ChatFinishReason.Stop,
        Engine.Generation.FinishReason.Length => ChatFinishReason.Length,
        _ => new ChatFinishReason(reason.ToString().ToLowerInvariant()),
    };

    public static UsageDetails ToUsage(Engine.Outputs.UsageInfo usage) => new()
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.TotalTokens,
        CachedInputTokenCount = usage.CachedPromptTokens,
    };
}
