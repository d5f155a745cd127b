using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrleansInfer.Client.Telemetry;

namespace OrleansInfer.Gateway.Telemetry;

/// <summary>
/// The gateway host's OpenTelemetry SDK: metrics of every OrleansInfer meter, Orleans, ASP.NET Core and the runtime,
/// served as Prometheus text at <c>/metrics</c>; OTLP export of traces and metrics only where the standard variables
/// name an endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, or the signal's own OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
/// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT; protocol, headers and batching from the SDK's other OTEL_* variables), read from
/// the host's configuration. Resource: service.name <c>orleans-infer-gateway</c> unless OTEL_SERVICE_NAME or
/// OTEL_RESOURCE_ATTRIBUTES says otherwise. In <c>serve</c> this is the process's only provider: it listens to the
/// silo's sources too.
/// </summary>
public static class GatewayTelemetry
{
    public const string DefaultServiceName = "orleans-infer-gateway";

    /// <summary>Where Prometheus scrapes (open without an API key, like the probes).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Requests traced by the ASP.NET Core instrumentation: not the scrapes, probes and status page polls, which would
    /// bury the requests that matter.
    /// </summary>
    public static bool IsTraced(PathString path) =>
        !(path.Equals(MetricsPath, StringComparison.Ordinal) || path.Equals("/health", StringComparison.Ordinal) || path.Equals("/ready", StringComparison.Ordinal) ||
          path.StartsWithSegments("/status", StringComparison.Ordinal) || path.StartsWithSegments("/dashboard", StringComparison.Ordinal) ||
          path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal));

    /// <summary>Registers the GenAI telemetry and the SDK (see the type's summary) on <paramref name="builder"/>.</summary>
    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        var settings = TelemetrySettings.From(builder.Configuration);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GenAiMetrics>();
        builder.Services.AddSingleton<GenAiTelemetry>();
        var otel = builder.Services.AddOpenTelemetry()
            // The environment's detector runs last so that OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the default name.
            .ConfigureResource(r => r.AddService(DefaultServiceName, serviceVersion: StatusEndpoints.Version).AddEnvironmentVariableDetector())
            .WithMetrics(m =>
            {
                m.AddMeter([.. TelemetrySettings.Meters]).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddPrometheusExporter();
                if (settings.OtlpMetrics) m.AddOtlpExporter();
            });
        // Without an exporter spans would be made for nobody; the ASP.NET Core server span still takes the caller's
        // traceparent, so in-process listeners see the gateway's spans in the caller's trace.
        if (settings.OtlpTraces)
        {
            otel.WithTracing(t => t
                .AddSource([.. TelemetrySettings.Sources])
                .SetRequestTraceSampler(settings.SamplerFromEnvironment)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => IsTraced(context.Request.Path))
                .AddOtlpExporter());
        }
        return builder;
    }

    /// <summary>Serves the Prometheus text format at <see cref="MetricsPath"/>.</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder app) => app.MapPrometheusScrapingEndpoint(MetricsPath);
}
