using System.Reflection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.OpenAi;

namespace OrleansInfer.Gateway;

/// <summary>Liveness (/health), readiness (/ready), /version and /cluster/status; the gRPC health service reads the same readiness.</summary>
public static class StatusEndpoints
{
    public static string Version { get; } =
        typeof(StatusEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static void MapStatus(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/ready", async (IInferenceCluster cluster, GatewayState state, CancellationToken ct) =>
            !state.Draining && await cluster.IsReadyAsync(ct)
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = state.Draining ? "draining" : "no worker ready" }, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/version", () => Results.Ok(new { version = Version }));
        app.MapGet("/cluster/status", async (HttpContext context, IInferenceCluster cluster, string? model) =>
        {
            try
            {
                var workers = await cluster.GetWorkersAsync(model, context.RequestAborted);
                return Results.Ok(new
                {
                    workers = workers.Select(w => new
                    {
                        key = w.WorkerKey,
                        model = w.ModelId,
                        device = w.Device,
                        kv_total_blocks = w.TotalBlocks,
                        kv_free_blocks = w.FreeBlocks,
                        running = w.RunningRequests,
                        waiting = w.WaitingRequests,
                        healthy = w.Healthy,
                        draining = w.Draining,
                    }),
                });
            }
            catch (GatewayException e)
            {
                return Results.Text(OpenAiError.Body(OpenAiError.StatusOf(e.Kind), e.Message, e.Param), "application/json", statusCode: OpenAiError.StatusOf(e.Kind));
            }
        });
    }
}

/// <summary>SERVING once a worker is ready and the gateway is not draining (the gRPC health service's answer).</summary>
public sealed class ReadinessHealthCheck(IInferenceCluster cluster, GatewayState state) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (state.Draining) return HealthCheckResult.Unhealthy("draining");
        return await cluster.IsReadyAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("no worker ready");
    }
}
