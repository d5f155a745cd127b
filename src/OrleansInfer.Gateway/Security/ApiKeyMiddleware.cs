using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using OrleansInfer.Gateway.OpenAi;

namespace OrleansInfer.Gateway.Security;

/// <summary>
/// With keys configured, every request but the health probes must carry <c>Authorization: Bearer KEY</c> (gRPC: the
/// <c>authorization</c> metadata); a key with a requests-per-minute limit is held to it. Refusals are 401 / 429 with
/// Retry-After in OpenAI's error shape, or UNAUTHENTICATED / RESOURCE_EXHAUSTED for gRPC calls.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeys keys)
{
    private readonly ConcurrentDictionary<string, RateLimiter> _limiters = new(StringComparer.Ordinal);

    /// <summary>
    /// Routes open without a key: liveness, readiness, the gRPC health service and the Prometheus scrape (probes and
    /// scrapers cannot send keys).
    /// </summary>
    public static bool IsOpen(PathString path) =>
        path.Equals("/health", StringComparison.Ordinal) || path.Equals("/ready", StringComparison.Ordinal) ||
        path.Equals(Telemetry.GatewayTelemetry.MetricsPath, StringComparison.Ordinal) ||
        path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!keys.Required || IsOpen(context.Request.Path))
        {
            await next(context);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        var key = keys.Find(presented);
        if (key is null)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, presented is null ? "missing API key: send Authorization: Bearer KEY" : "invalid API key", null);
            return;
        }

        if (key.RequestsPerMinute is { } perMinute)
        {
            var limiter = _limiters.GetOrAdd(key.Key, _ => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
            using var lease = limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
                await RefuseAsync(context, StatusCodes.Status429TooManyRequests, $"rate limit reached for this API key: {perMinute} requests per minute", retry);
                return;
            }
        }
        await next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string message, TimeSpan? retryAfter)
    {
        if (GrpcResponses.IsGrpc(context))
            return GrpcResponses.WriteStatusAsync(context, status == 401 ? global::Grpc.Core.StatusCode.Unauthenticated : global::Grpc.Core.StatusCode.ResourceExhausted, message, retryAfter);
        return OpenAiError.WriteAsync(context, status, message, code: status == 401 ? "invalid_api_key" : "rate_limit_exceeded", retryAfter: retryAfter);
    }
}
