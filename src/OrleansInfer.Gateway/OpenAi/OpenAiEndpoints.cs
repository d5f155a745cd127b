namespace OrleansInfer.Gateway.OpenAi;

/// <summary>Maps the OpenAI-compatible HTTP API (/v1/*, /tokenize, /detokenize) onto the app.</summary>
public static class OpenAiEndpoints
{
    public static void MapOpenAi(this IEndpointRouteBuilder app)
    {
        // The /v1 routes are mapped here (see OpenAi/*).
    }
}
