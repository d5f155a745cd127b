using Microsoft.Extensions.Configuration;

namespace OrleansInfer.Client.Telemetry;

/// <summary>
/// Which OTLP signals the standard OpenTelemetry variables turn on, read from configuration (environment variables
/// arrive there under their own names, so tests can inject them without touching the process environment).
/// OTLP is on for a signal when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or the signal's own endpoint variable is set and
/// <c>OTEL_TRACES_EXPORTER</c> / <c>OTEL_METRICS_EXPORTER</c> is not <c>none</c>. The endpoint, protocol, headers and
/// resource are then read by the SDK from the same configuration. <c>OTEL_SDK_DISABLED=true</c> turns the whole SDK off
/// (a silo's /metrics included: the SDK would make every provider a no-op anyway). Read the same way by the gateway and
/// silo hosts, which also subscribe to the same <see cref="Meters"/> and <see cref="Sources"/>.
/// </summary>
/// <param name="OtlpTraces">Export spans over OTLP.</param>
/// <param name="OtlpMetrics">Export metrics over OTLP.</param>
/// <param name="SdkDisabled">OTEL_SDK_DISABLED=true: no provider at all.</param>
/// <param name="SamplerFromEnvironment">OTEL_TRACES_SAMPLER names the sampler (else the hosts' request-trace sampler).</param>
public sealed record TelemetrySettings(bool OtlpTraces, bool OtlpMetrics, bool SdkDisabled = false, bool SamplerFromEnvironment = false)
{
    public const string Endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string TracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    public const string MetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";

    /// <summary>The meters the hosts export: the engine's, the cluster's, the gateway's and Orleans' own.</summary>
    public static IReadOnlyList<string> Meters { get; } = ["OrleansInfer.*", "Microsoft.Orleans"];

    /// <summary>The activity sources the hosts trace: ours and Orleans' grain calls (with activity propagation a request's trace runs into the silos).</summary>
    public static IReadOnlyList<string> Sources { get; } = ["OrleansInfer.*", "Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime"];

    /// <summary>No OTLP export (no variable set).</summary>
    public static TelemetrySettings Off { get; } = new(false, false);

    public static TelemetrySettings From(IConfiguration configuration)
    {
        bool Set(string key) => !string.IsNullOrWhiteSpace(configuration[key]);
        bool Is(string key, string value) => string.Equals(configuration[key]?.Trim(), value, StringComparison.OrdinalIgnoreCase);

        if (Is("OTEL_SDK_DISABLED", "true")) return new TelemetrySettings(false, false, SdkDisabled: true);
        return new TelemetrySettings(
            OtlpTraces: (Set(Endpoint) || Set(TracesEndpoint)) && !Is("OTEL_TRACES_EXPORTER", "none"),
            OtlpMetrics: (Set(Endpoint) || Set(MetricsEndpoint)) && !Is("OTEL_METRICS_EXPORTER", "none"),
            SamplerFromEnvironment: Set(RequestTraceSampler.SamplerVariable));
    }
}
