using Microsoft.AspNetCore.Http.Features;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// The status page: <c>/status</c> (the page), <c>/</c> (a redirect to it), <c>/status/data</c> (JSON) and
/// <c>/status/events</c> (the same JSON as server-sent events). The page and the redirect carry no data and are open
/// even with API keys (short-circuited past the key middleware) so a browser can load the page, which then asks for
/// the key; the data routes need the key like every other route.
/// </summary>
public static class StatusPageEndpoints
{
    /// <summary>The history, its sampler and the data source.</summary>
    public static IServiceCollection AddStatusPage(this IServiceCollection services, StatusPageOptions? options = null)
    {
        options ??= new StatusPageOptions();
        services.AddSingleton(options);
        services.AddSingleton(new ThroughputHistory(options.HistoryWindow));
        services.AddSingleton<DashboardMapping>();
        services.AddSingleton<StatusDataSource>();
        services.AddHostedService<ThroughputSampler>();
        return services;
    }

    public static void MapStatusPage(this IEndpointRouteBuilder app)
    {
        // ShortCircuit: served by the routing middleware, which runs before the API-key middleware.
        app.MapGet("/", () => Results.Redirect("/status")).ShortCircuit();
        app.MapGet("/status", StatusPageShell.Write).ShortCircuit();
        app.MapGet("/status/data", async (StatusDataSource source, HttpContext context) =>
        {
            var json = StatusJsonContext.Serialize(await source.ReadAsync(context.RequestAborted));
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(json, "application/json");
        });
        app.MapGet("/status/events", WriteEventsAsync);
    }

    /// <summary>Pushes the data every push interval until the client goes or the gateway stops (a stream must not hold up the drain).</summary>
    private static async Task WriteEventsAsync(HttpContext context, StatusDataSource source, StatusPageOptions options, IHostApplicationLifetime lifetime)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var timer = new PeriodicTimer(options.PushInterval, options.Time);
        try
        {
            do
            {
                var json = StatusJsonContext.Serialize(await source.ReadAsync(stop.Token));
                await response.WriteAsync($"data: {json}\n\n", stop.Token);
                await response.Body.FlushAsync(stop.Token);
            }
            while (await timer.WaitForNextTickAsync(stop.Token));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
