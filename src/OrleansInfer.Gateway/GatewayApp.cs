using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OrleansInfer.Gateway.Grpc;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.OpenAi;
using OrleansInfer.Gateway.Security;
using OrleansInfer.Gateway.StatusPage;
using OrleansInfer.Gateway.Telemetry;

namespace OrleansInfer.Gateway;

/// <summary>
/// Builds the gateway: Kestrel with HTTP/1.1 (OpenAI API, health, status) and HTTP/2 (gRPC) listeners, request ids,
/// API keys and rate limits, CORS when configured, draining on stop, telemetry (<see cref="GatewayTelemetry"/>). The
/// cluster is given (a silo's own client in `serve`, an Orleans client in `gateway`).
/// </summary>
public static class GatewayApp
{
    /// <param name="options">The gateway's settings.</param>
    /// <param name="cluster">The cluster it serves.</param>
    /// <param name="configure">Last changes to the builder (tests replace services).</param>
    /// <param name="environment">
    /// Settings that win over the process's environment variables, e.g. the OTEL_* variables of the telemetry (tests
    /// give their own without touching the process's environment).
    /// </param>
    public static WebApplication Build(GatewayOptions options, IInferenceCluster cluster, Action<WebApplicationBuilder>? configure = null, IConfiguration? environment = null)
    {
        options.Validate();
        var keys = ApiKeys.From(options);
        var builder = WebApplication.CreateSlimBuilder();
        if (environment is not null) builder.Configuration.AddConfiguration(environment);
        // Logs go to stderr: stdout carries the command's own output (the "ready" line).
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("OrleansInfer", LogLevel.Information);
        builder.WebHost.ConfigureKestrel(k =>
        {
            var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            k.Listen(address, options.Port, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(address, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton<GatewayState>();
        builder.Services.AddSingleton<StatusPage.RecentRequests>();
        builder.Services.AddStatusPage();
        builder.Services.AddSingleton<GatewayReadiness>();
        builder.AddGatewayTelemetry();
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, options.MaxRequestBodyBytes));
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks(o => o.Services.Map("", _ => true)).AddCheck<ReadinessHealthCheck>("ready");
        if (options.CorsOrigins.Count > 0)
            builder.Services.AddCors(c => c.AddDefaultPolicy(p => p.WithOrigins([.. options.CorsOrigins]).AllowAnyHeader().AllowAnyMethod()));
        configure?.Invoke(builder);

        var app = builder.Build();
        var state = app.Services.GetRequiredService<GatewayState>();
        app.Lifetime.ApplicationStopping.Register(state.BeginDraining);
        app.UseMiddleware<RequestIdMiddleware>();
        if (options.CorsOrigins.Count > 0) app.UseCors();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.MapStatus();
        app.MapStatusPage();
        app.MapOrleansDashboardWhenPresent();
        app.MapMetrics();
        app.MapOpenAi();
        app.MapInferenceGrpc();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        return app;
    }
}
