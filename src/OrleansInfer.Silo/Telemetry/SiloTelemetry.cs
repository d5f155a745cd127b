using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrleansInfer.Client.Telemetry;
using Orleans.Runtime;

namespace OrleansInfer.Silo.Telemetry;

/// <summary>
/// The OpenTelemetry SDK of a silo host: the project's meters and sources (<c>OrleansInfer.*</c>), Orleans' and the
/// runtime's, exported to Prometheus (the silo's <c>/metrics</c>, when it has an HTTP port) and over OTLP when the
/// standard variables ask (<see cref="TelemetrySettings"/>). Registers nothing, and logs nothing, when there is
/// nothing to export, and nothing at all with <see cref="SiloOptions.ExportTelemetry"/> off (`serve`: the gateway's
/// provider in the same process exports everything) or OTEL_SDK_DISABLED=true.
/// </summary>
public static class SiloTelemetry
{
    /// <summary>service.name unless OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.</summary>
    public const string DefaultServiceName = "orleans-infer-silo";

    /// <summary>Registers the providers <paramref name="options"/> and <paramref name="settings"/> call for.</summary>
    public static void Add(IServiceCollection services, SiloOptions options, TelemetrySettings settings)
    {
        if (!options.ExportTelemetry || settings.SdkDisabled) return;
        var prometheus = options.HttpPort is not null;
        if (!prometheus && !settings.OtlpMetrics && !settings.OtlpTraces) return;

        var telemetry = services.AddOpenTelemetry().ConfigureResource(ConfigureResource);
        if (prometheus || settings.OtlpMetrics)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter([.. TelemetrySettings.Meters]).AddRuntimeInstrumentation();
                if (prometheus) metrics.AddPrometheusExporter();
                // Endpoint, protocol (grpc | http/protobuf), headers and timeouts: the SDK reads the OTEL_* keys itself.
                if (settings.OtlpMetrics) metrics.AddOtlpExporter();
            });
        }
        if (settings.OtlpTraces)
            telemetry.WithTracing(tracing => tracing.AddSource([.. TelemetrySettings.Sources]).SetRequestTraceSampler(settings.SamplerFromEnvironment).AddOtlpExporter());
    }

    /// <summary>
    /// Our defaults first, the environment last: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME override the default
    /// service name and the instance id.
    /// </summary>
    private static void ConfigureResource(ResourceBuilder resource) => resource
        .Clear()
        .AddService(DefaultServiceName, serviceVersion: Version, autoGenerateServiceInstanceId: false)
        .AddDetector(services => new SiloInstanceDetector(services))
        .AddTelemetrySdk()
        .AddEnvironmentVariableDetector();

    private static string? Version =>
        typeof(SiloTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
}

/// <summary>service.instance.id: the pod's name on Kubernetes (POD_NAME, from the downward API), else the silo's address.</summary>
internal sealed class SiloInstanceDetector(IServiceProvider services) : IResourceDetector
{
    public Resource Detect()
    {
        var pod = services.GetService<IConfiguration>()?["POD_NAME"];
        var id = !string.IsNullOrWhiteSpace(pod) ? pod : services.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString();
        return id is null ? Resource.Empty : new Resource([new KeyValuePair<string, object>("service.instance.id", id)]);
    }
}
