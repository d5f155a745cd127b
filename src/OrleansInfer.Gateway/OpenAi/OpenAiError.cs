using System.Text.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>Errors in OpenAI's shape, <c>{"error": {"message", "type", "param", "code"}}</c>, with the HTTP status of each kind.</summary>
public static class OpenAiError
{
    public static int StatusOf(GatewayErrorKind kind) => kind switch
    {
        GatewayErrorKind.InvalidArgument or GatewayErrorKind.NotSupported => StatusCodes.Status400BadRequest,
        GatewayErrorKind.NotFound => StatusCodes.Status404NotFound,
        GatewayErrorKind.Overloaded or GatewayErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        GatewayErrorKind.Timeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>OpenAI's error type for a status ("invalid_request_error", "authentication_error", ...).</summary>
    public static string TypeOf(int status) => status switch
    {
        400 or 404 or 413 or 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        503 => "service_unavailable",
        504 => "timeout",
        _ => "server_error",
    };

    /// <summary>Writes the error (and Retry-After when given); the response must not have started.</summary>
    public static Task WriteAsync(HttpContext context, int status, string message, string? param = null, string? code = null, TimeSpan? retryAfter = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } wait) context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(Body(status, message, param, code), context.RequestAborted);
    }

    public static Task WriteAsync(HttpContext context, GatewayException e) =>
        WriteAsync(context, StatusOf(e.Kind), e.Message, e.Param, CodeOf(e.Kind), e.RetryAfter);

    public static string Body(int status, string message, string? param = null, string? code = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", TypeOf(status));
            if (param is null) w.WriteNull("param");
            else w.WriteString("param", param);
            if (code is null) w.WriteNull("code");
            else w.WriteString("code", code);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// A failure's <c>error.type</c> in telemetry: the error's code when it has one (model_not_found, overloaded, ...),
    /// else its OpenAI type (invalid_request_error); "cancelled" when the client went away; the exception's type for
    /// anything unexpected.
    /// </summary>
    public static string ErrorTypeOf(Exception e) => e switch
    {
        GatewayException g => CodeOf(g.Kind) ?? TypeOf(StatusOf(g.Kind)),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => "request_too_large",
        BadHttpRequestException b => TypeOf(b.StatusCode),
        OperationCanceledException => "cancelled",
        _ => e.GetType().FullName ?? e.GetType().Name,
    };

    internal static string? CodeOf(GatewayErrorKind kind) => kind switch
    {
        GatewayErrorKind.NotFound => "model_not_found",
        GatewayErrorKind.Overloaded => "overloaded",
        GatewayErrorKind.Unavailable => "no_workers",
        GatewayErrorKind.Timeout => "timeout",
        GatewayErrorKind.NotSupported => "not_supported",
        _ => null,
    };
}
