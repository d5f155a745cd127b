namespace OrleansInfer.Gateway;

/// <summary>Echoes the caller's X-Request-Id or makes one, and puts it in the log scope of everything the request does.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string Header = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        var id = context.Request.Headers[Header].ToString();
        if (string.IsNullOrWhiteSpace(id) || id.Length > 200) id = $"req-{Guid.NewGuid():N}";
        context.Items[Header] = id;
        context.Response.Headers[Header] = id;
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
        {
            await next(context);
        }
    }

    /// <summary>The request's id (set by this middleware).</summary>
    public static string Of(HttpContext context) => context.Items[Header] as string ?? $"req-{Guid.NewGuid():N}";
}
