using System.Globalization;

namespace OrleansInfer.Gateway.Security;

/// <summary>A gRPC status written by middleware, before any service runs (a trailers-only response).</summary>
public static class GrpcResponses
{
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static Task WriteStatusAsync(HttpContext context, global::Grpc.Core.StatusCode status, string message, TimeSpan? retryAfter = null)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)status).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        if (retryAfter is { } wait) context.Response.Headers["retry-after-ms"] = ((long)wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
