using System.Text.Json;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// The sampling parameters of a completions or chat request (OpenAI's and vLLM's extensions), as parsed; <see cref="ToSpec"/>
/// maps them to the engine's <see cref="SamplingSpec"/> once the prompt length is known. Ranges are checked by the
/// engine, whose errors name the field; here only types, unsupported features and the context length.
/// </summary>
internal sealed record OpenAiSampling
{
    public int? MaxTokens { get; init; }
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; }
    public float MinP { get; init; }
    public float RepetitionPenalty { get; init; } = 1f;
    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }
    public int N { get; init; } = 1;
    public int? BestOf { get; init; }
    public ulong? Seed { get; init; }
    public string[] Stop { get; init; } = [];
    public int[] StopTokenIds { get; init; } = [];
    public bool IgnoreEos { get; init; }

    /// <summary>Top alternatives per token when logprobs are asked for (0: only the sampled token's), else null.</summary>
    public int? Logprobs { get; init; }

    public int Priority { get; init; }

    /// <summary>Parses the fields both APIs share; <paramref name="chat"/> picks the logprobs form (bool + top_logprobs vs an integer).</summary>
    public static OpenAiSampling Parse(JsonElement body, bool chat)
    {
        if (OpenAiJson.Value(body, "logit_bias") is { } bias && !(bias.ValueKind == JsonValueKind.Object && !bias.EnumerateObject().Any()))
            throw new GatewayException(GatewayErrorKind.NotSupported, "logit_bias is not supported", "logit_bias");
        if (OpenAiJson.Object(body, "response_format") is { } format &&
            !(format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
            throw new GatewayException(GatewayErrorKind.NotSupported, "response_format is not supported yet", "response_format");

        int? logprobs;
        if (chat)
        {
            var wanted = OpenAiJson.Bool(body, "logprobs") ?? false;
            var top = OpenAiJson.Int(body, "top_logprobs");
            if (top is not null && !wanted) throw GatewayException.Invalid("top_logprobs", "top_logprobs needs logprobs set to true");
            logprobs = wanted ? top ?? 0 : null;
        }
        else
        {
            logprobs = OpenAiJson.Int(body, "logprobs");
        }

        // vLLM: max_completion_tokens (the newer name) wins over max_tokens.
        var seed = OpenAiJson.Long(body, "seed");
        var topK = OpenAiJson.Int(body, "top_k") ?? 0;
        return new OpenAiSampling
        {
            MaxTokens = OpenAiJson.Int(body, "max_completion_tokens") ?? OpenAiJson.Int(body, "max_tokens"),
            Temperature = OpenAiJson.Float(body, "temperature") ?? 1f,
            TopP = OpenAiJson.Float(body, "top_p") ?? 1f,
            // vLLM disables top-k with -1; the engine with 0.
            TopK = topK == -1 ? 0 : topK,
            MinP = OpenAiJson.Float(body, "min_p") ?? 0f,
            RepetitionPenalty = OpenAiJson.Float(body, "repetition_penalty") ?? 1f,
            PresencePenalty = OpenAiJson.Float(body, "presence_penalty") ?? 0f,
            FrequencyPenalty = OpenAiJson.Float(body, "frequency_penalty") ?? 0f,
            N = OpenAiJson.Int(body, "n") ?? 1,
            BestOf = chat ? null : OpenAiJson.Int(body, "best_of"),
            // OpenAI's seed is a signed 64-bit integer: its bits seed the engine's generator.
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            Stop = OpenAiJson.StringOrList(body, "stop") ?? [],
            StopTokenIds = OpenAiJson.IntList(body, "stop_token_ids") ?? [],
            IgnoreEos = OpenAiJson.Bool(body, "ignore_eos") ?? false,
            Logprobs = logprobs,
            Priority = OpenAiJson.Int(body, "priority") ?? 0,
        };
    }

    /// <summary>
    /// The engine's spec for a prompt of <paramref name="promptTokens"/> tokens. Without max_tokens the completion may
    /// run to the end of the context (vLLM); a prompt and max_tokens beyond the context are refused here, vLLM's way,
    /// with both numbers. <paramref name="promptParam"/> is "prompt" or "messages".
    /// </summary>
    public SamplingSpec ToSpec(int promptTokens, int contextLength, string promptParam)
    {
        var what = promptParam == "messages" ? "messages" : "prompt";
        if (promptTokens >= contextLength)
            throw GatewayException.Invalid(promptParam,
                $"This model's maximum context length is {contextLength} tokens. However, your request has {promptTokens} input tokens " +
                $"({promptTokens} in the {what}), which leaves no room for a completion. Please reduce the length of the {what}.");
        var maxTokens = MaxTokens ?? contextLength - promptTokens;
        if (MaxTokens is { } requested && requested >= 1 && (long)promptTokens + requested > contextLength)
            throw GatewayException.Invalid("max_tokens",
                $"This model's maximum context length is {contextLength} tokens. However, you requested {promptTokens + (long)requested} tokens " +
                $"({promptTokens} in the {what}, {requested} in the completion). Please reduce the length of the {what} or completion.");
        return new SamplingSpec
        {
            Temperature = Temperature,
            TopK = TopK,
            TopP = TopP,
            MinP = MinP,
            RepetitionPenalty = RepetitionPenalty,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            MaxTokens = maxTokens,
            Seed = Seed,
            IgnoreEos = IgnoreEos,
            StopTokenIds = StopTokenIds,
            Stop = Stop,
            N = N,
            // best_of equal to n changes nothing; leaving it unset keeps the request streaming token by token.
            BestOf = BestOf == N ? null : BestOf,
            Logprobs = Logprobs,
        };
    }
}
