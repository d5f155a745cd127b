using Microsoft.AspNetCore.Http.Features;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.Telemetry;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>Maps the OpenAI-compatible HTTP API (/v1/*, /tokenize, /detokenize) onto the app.</summary>
public static class OpenAiEndpoints
{
    public static void MapOpenAi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/completions", (HttpContext c) => GenerationEndpoints.ObservedAsync(c, GenAi.TextCompletion, GenerationEndpoints.CompletionsAsync));
        app.MapPost("/v1/chat/completions", (HttpContext c) => GenerationEndpoints.ObservedAsync(c, GenAi.Chat, GenerationEndpoints.ChatAsync));
        app.MapGet("/v1/models", (HttpContext c) => GuardAsync(c, ModelEndpoints.ListAsync));
        app.MapGet("/v1/models/{**id}", (HttpContext c, string id) => GuardAsync(c, x => ModelEndpoints.GetAsync(x, id)));
        app.MapPost("/tokenize", (HttpContext c) => GuardAsync(c, ModelEndpoints.TokenizeAsync));
        app.MapPost("/detokenize", (HttpContext c) => GuardAsync(c, ModelEndpoints.DetokenizeAsync));
        // Clients probing routes this gateway does not offer get OpenAI's 404, not an empty one.
        app.MapFallback("/v1/{**rest}", (HttpContext c) => OpenAiError.WriteAsync(c, StatusCodes.Status404NotFound,
            $"{c.Request.Method} {c.Request.Path} is not a route of this server", code: "not_found"));
    }

    /// <summary>
    /// Runs a handler and turns whatever it throws before the response started into OpenAI's error shape: typed gateway
    /// errors with their status, an oversized body as 413 (Kestrel throws it while the body is read), anything else
    /// as a 500 without internals. A client that went away gets nothing.
    /// </summary>
    internal static async Task GuardAsync(HttpContext context, Func<HttpContext, Task> handler)
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // Nobody to answer.
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted && e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            await OpenAiError.WriteAsync(context, e.StatusCode, $"the request body is larger than this server accepts{(limit is { } l ? $" ({l} bytes)" : "")}",
                code: "request_too_large").ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var (status, message, param, code) = Describe(e, Logger(context));
            var retryAfter = (e as GatewayException)?.RetryAfter;
            await OpenAiError.WriteAsync(context, status, message, param, code, retryAfter).ConfigureAwait(false);
        }
    }

    /// <summary>Status, message, param and code of a failure; unexpected ones are logged and told as a bare 500.</summary>
    internal static (int Status, string Message, string? Param, string? Code) Describe(Exception e, ILogger logger)
    {
        switch (e)
        {
            case GatewayException g:
                return (OpenAiError.StatusOf(g.Kind), g.Message, g.Param, OpenAiError.CodeOf(g.Kind));
            case BadHttpRequestException b:
                return (b.StatusCode, b.Message, null, null);
            default:
                logger.LogError(e, "OpenAI API request failed");
                return (StatusCodes.Status500InternalServerError, "The server had an error while processing your request.", null, "internal_error");
        }
    }

    internal static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansInfer.Gateway.OpenAi");
}
