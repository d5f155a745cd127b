using System.Text.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>One prompt of a completions call: text, or token ids as given.</summary>
internal sealed record PromptInput(string? Text, int[]? TokenIds);

/// <summary>What both generation APIs share besides sampling: model, streaming and its options.</summary>
internal sealed record StreamSettings(bool Stream, bool IncludeUsage)
{
    public static StreamSettings Parse(JsonElement body)
    {
        var stream = OpenAiJson.Bool(body, "stream") ?? false;
        var options = OpenAiJson.Object(body, "stream_options");
        var includeUsage = options is { } o && OpenAiJson.Bool(o, "include_usage") is true;
        if (options is not null && !stream) throw GatewayException.Invalid("stream_options", "stream_options is only allowed when stream is true");
        return new StreamSettings(stream, includeUsage);
    }
}

/// <summary>A parsed POST /v1/completions body.</summary>
internal sealed record CompletionRequest(string? Model, IReadOnlyList<PromptInput> Prompts, bool Echo, StreamSettings Streaming, OpenAiSampling Sampling)
{
    public static CompletionRequest Parse(JsonElement body)
    {
        // vLLM refuses suffix too: insertion needs a fill-in-the-middle model and prompt format.
        if (OpenAiJson.String(body, "suffix") is { Length: > 0 })
            throw new GatewayException(GatewayErrorKind.NotSupported, "suffix is not supported", "suffix");
        return Create(body);
    }

    private static CompletionRequest Create(JsonElement body) => new(
        OpenAiJson.String(body, "model"),
        ParsePrompts(body),
        OpenAiJson.Bool(body, "echo") ?? false,
        StreamSettings.Parse(body),
        OpenAiSampling.Parse(body, chat: false));

    /// <summary>prompt: a string, a list of token ids, or a list of either (several prompts in one call).</summary>
    private static List<PromptInput> ParsePrompts(JsonElement body)
    {
        var prompt = OpenAiJson.Value(body, "prompt") ?? throw GatewayException.Invalid("prompt", "'prompt' is required");
        const string what = "a string, a list of token ids, or a list of strings or of token-id lists";
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return [new PromptInput(prompt.GetString(), null)];
            case JsonValueKind.Array:
                var items = prompt.EnumerateArray().ToList();
                if (items.Count == 0) throw GatewayException.Invalid("prompt", "'prompt' must not be empty");
                if (items.All(i => i.ValueKind == JsonValueKind.Number))
                    return [new PromptInput(null, items.Select(i => OpenAiJson.AsInt(i, "prompt", what)).ToArray())];
                return items.Select(i => i.ValueKind switch
                {
                    JsonValueKind.String => new PromptInput(i.GetString(), null),
                    JsonValueKind.Array => new PromptInput(null, i.EnumerateArray().Select(t => OpenAiJson.AsInt(t, "prompt", what)).ToArray()),
                    _ => throw OpenAiJson.WrongType("prompt", what),
                }).ToList();
            default:
                throw OpenAiJson.WrongType("prompt", what);
        }
    }
}

/// <summary>A parsed POST /v1/chat/completions body (messages, tools and template options, sampling, streaming).</summary>
internal sealed record ChatRequest(string? Model, ChatInput Input, StreamSettings Streaming, OpenAiSampling Sampling)
{
    public static ChatRequest Parse(JsonElement body) => new(
        OpenAiJson.String(body, "model"),
        ChatInput.Parse(body),
        StreamSettings.Parse(body),
        OpenAiSampling.Parse(body, chat: true));
}
