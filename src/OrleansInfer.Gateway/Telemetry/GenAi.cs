using System.Diagnostics;

namespace OrleansInfer.Gateway.Telemetry;

/// <summary>
/// Names of the OpenTelemetry GenAI semantic conventions as the gateway uses them, and its ActivitySource
/// (<c>OrleansInfer.Gateway</c>, the same name as its Meter).
/// </summary>
public static class GenAi
{
    /// <summary>The gateway's Meter and ActivitySource name.</summary>
    public const string SourceName = "OrleansInfer.Gateway";

    /// <summary><c>gen_ai.operation.name</c> of chat completions (HTTP chat, gRPC Chat).</summary>
    public const string Chat = "chat";

    /// <summary><c>gen_ai.operation.name</c> of completions (HTTP completions, gRPC Generate).</summary>
    public const string TextCompletion = "text_completion";

    /// <summary><c>gen_ai.provider.name</c> of this server.</summary>
    public const string Provider = "orleans_infer";

    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";
    public const string RequestTemperature = "gen_ai.request.temperature";
    public const string RequestTopP = "gen_ai.request.top_p";
    public const string RequestTopK = "gen_ai.request.top_k";
    public const string RequestSeed = "gen_ai.request.seed";
    public const string RequestChoiceCount = "gen_ai.request.choice.count";
    public const string UsageInputTokens = "gen_ai.usage.input_tokens";
    public const string UsageOutputTokens = "gen_ai.usage.output_tokens";
    public const string ResponseFinishReasons = "gen_ai.response.finish_reasons";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";

    /// <summary>Span event when the request's first output token arrives.</summary>
    public const string FirstTokenEvent = "gen_ai.first_token";

    /// <summary>Span event when the resilient client stream went on on another worker (failover, hand-off, re-attach).</summary>
    public const string ResumedEvent = "orleansinfer.resumed";

    /// <summary>The gateway's spans: one per generation request, <c>{operation} {model}</c>.</summary>
    public static ActivitySource Source { get; } = new(SourceName, StatusEndpoints.Version);
}
