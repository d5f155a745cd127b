using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Runtime;
using OrleansInfer.Client.Telemetry;
using OrleansInfer.Silo.Http;
using OrleansInfer.Silo.Telemetry;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// The silo host's OpenTelemetry SDK as the OTEL_* variables configure it (injected through the host's configuration,
/// never the process environment): which exporters each provider feeds, the resource, and silence when OTLP is off.
/// Nothing is started: the providers are built and inspected.
/// </summary>
public sealed class SiloTelemetryTests
{
    private const string Collector = "http://127.0.0.1:4318";

    private static IHost Build(Action<SiloOptions>? configure = null, CapturedLogs? logs = null, params (string Key, string Value)[] variables)
    {
        var options = new SiloOptions { Model = SharedData.Stories260KGguf, Backend = "cpu", CpuWorkers = 1, Threads = 1, KvBlocks = 8, HttpPort = FreePorts.Next() };
        configure?.Invoke(options);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
        return OrleansInferSilo.Build(options, logging: logs is null ? null : b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace), configuration: configuration);
    }

    private static string[] Exporters(MeterProvider provider) => ExportPipeline.Exporters(provider).Select(t => t.Name).ToArray();

    private static string[] Exporters(TracerProvider provider) => ExportPipeline.Exporters(provider).Select(t => t.Name).ToArray();

    [Fact]
    public void WithoutOtelVariablesOnlyPrometheusIsFedAndNothingIsLogged()
    {
        var logs = new CapturedLogs();
        using var host = Build(logs: logs);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Equal(["PrometheusExporter"], Exporters(host.Services.GetRequiredService<MeterProvider>()));
        Assert.True(host.Services.GetRequiredService<SiloHttpEndpoint>().ServesMetrics);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("otlp", StringComparison.OrdinalIgnoreCase) || l.Contains("telemetry", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void WithoutAnHttpPortOrOtelVariablesNoProviderIsRegistered()
    {
        using var host = Build(o => o.HttpPort = null);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
    }

    [Fact]
    public void TheOtlpEndpointVariableAddsOtlpExportToBothSignals()
    {
        using var host = Build(variables: [(TelemetrySettings.Endpoint, Collector), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]);
        Assert.Equal(["OtlpTraceExporter"], Exporters(host.Services.GetRequiredService<TracerProvider>()));
        Assert.Equal(["PrometheusExporter", "OtlpMetricExporter"], Exporters(host.Services.GetRequiredService<MeterProvider>()));
    }

    [Theory]
    [InlineData(TelemetrySettings.TracesEndpoint, true, false)]
    [InlineData(TelemetrySettings.MetricsEndpoint, false, true)]
    public void ASignalsOwnEndpointTurnsOnlyThatSignalOn(string variable, bool traces, bool metrics)
    {
        using var host = Build(o => o.HttpPort = null, variables: [(variable, Collector + "/v1/x")]);
        Assert.Equal(traces, host.Services.GetService<TracerProvider>() is { } t && Exporters(t).SequenceEqual(["OtlpTraceExporter"]));
        Assert.Equal(metrics, host.Services.GetService<MeterProvider>() is { } m && Exporters(m).SequenceEqual(["OtlpMetricExporter"]));
        Assert.Equal(traces, host.Services.GetService<TracerProvider>() is not null);
        Assert.Equal(metrics, host.Services.GetService<MeterProvider>() is not null);
    }

    [Fact]
    public void TracesExporterNoneTurnsOtlpTracesOff()
    {
        using var host = Build(variables: [(TelemetrySettings.Endpoint, Collector), ("OTEL_TRACES_EXPORTER", "none")]);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Equal(["PrometheusExporter", "OtlpMetricExporter"], Exporters(host.Services.GetRequiredService<MeterProvider>()));
    }

    [Fact]
    public void SdkDisabledRegistersNoProviderAndNoMetricsEndpoint()
    {
        using var host = Build(variables: [(TelemetrySettings.Endpoint, Collector), ("OTEL_SDK_DISABLED", "true")]);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
        Assert.False(host.Services.GetRequiredService<SiloHttpEndpoint>().ServesMetrics);
    }

    [Fact]
    public void ServeTurnsTheSilosExportOffEvenWithOtelVariables()
    {
        using var host = Build(o =>
        {
            o.HttpPort = null;
            o.ExportTelemetry = false;
        }, variables: [(TelemetrySettings.Endpoint, Collector)]);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
        Assert.False(host.Services.GetRequiredService<SiloHttpEndpoint>().ServesMetrics);
    }

    [Fact]
    public void TheResourceNamesTheServiceAndTheSiloByDefault()
    {
        using var host = Build();
        var resource = Attributes(host.Services.GetRequiredService<MeterProvider>());
        Assert.Equal(SiloTelemetry.DefaultServiceName, resource["service.name"]);
        Assert.Equal(host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString(), resource["service.instance.id"]);
        Assert.Equal("opentelemetry", resource["telemetry.sdk.name"]);
    }

    [Fact]
    public void ThePodNameAndTheOtelResourceVariablesWin()
    {
        using var pod = Build(variables: [("POD_NAME", "orleans-infer-silo-1")]);
        Assert.Equal("orleans-infer-silo-1", Attributes(pod.Services.GetRequiredService<MeterProvider>())["service.instance.id"]);

        using var host = Build(variables: [("POD_NAME", "orleans-infer-silo-1"), ("OTEL_SERVICE_NAME", "gpu-silo"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored,service.instance.id=silo-a,deployment.environment=ci")]);
        var resource = Attributes(host.Services.GetRequiredService<MeterProvider>());
        Assert.Equal("gpu-silo", resource["service.name"]);
        Assert.Equal("silo-a", resource["service.instance.id"]);
        Assert.Equal("ci", resource["deployment.environment"]);

        using var named = Build(variables: [("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")]);
        Assert.Equal("from-attributes", Attributes(named.Services.GetRequiredService<MeterProvider>())["service.name"]);
    }

    private static Dictionary<string, string> Attributes(MeterProvider provider) =>
        provider.GetResource().Attributes.ToDictionary(a => a.Key, a => Convert.ToString(a.Value, System.Globalization.CultureInfo.InvariantCulture)!);
}
