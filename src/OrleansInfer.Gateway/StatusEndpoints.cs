using System.Reflection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.OpenAi;

namespace OrleansInfer.Gateway;

/// <summary>Liveness (/health), readiness (/ready, <see cref="GatewayReadiness"/>), /version and /cluster/status; the gRPC health service reads the same readiness.</summary>
public static class StatusEndpoints
{
    public static string Version { get; } =
        typeof(StatusEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static void MapStatus(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/ready", async (GatewayReadiness readiness, CancellationToken ct) =>
            await readiness.NotReadyReasonAsync(ct) is not { } reason
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = reason == "draining" ? "draining" : "no worker ready", reason }, statusCode: StatusCodes.Status503ServiceUnavailable));
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

/// <summary>SERVING while <see cref="GatewayReadiness"/> says ready (the gRPC health service's answer).</summary>
public sealed class ReadinessHealthCheck(GatewayReadiness readiness) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await readiness.NotReadyReasonAsync(cancellationToken) is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy();
}
