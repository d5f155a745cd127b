using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrleansInfer.Gateway.Telemetry;
using OrleansInfer.Gateway.Tests.OpenAi;
using OrleansInfer.Testing;

using OrleansInfer.Client.Telemetry;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>An OTLP/HTTP endpoint that keeps what it is sent (the bodies are protobuf; tests look for bytes in them).</summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpSink(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public ConcurrentQueue<(string Path, byte[] Body)> Received { get; } = new();

    public static async Task<OtlpSink> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var sink = new OtlpSink(app, port);
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            sink.Received.Enqueue((context.Request.Path.Value!, body.ToArray()));
            // An empty Export*ServiceResponse: full success.
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return sink;
    }

    /// <summary>Whether one export to <paramref name="path"/> holds every one of <paramref name="texts"/>.</summary>
    public bool Got(string path, params string[] texts) =>
        Received.Any(r => r.Path == path && texts.All(t => r.Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(t)) >= 0));

    /// <summary>Every span received, read from the OTLP protobuf.</summary>
    public IReadOnlyList<OtlpSpan> Spans => [.. Received.Where(r => r.Path == "/v1/traces").SelectMany(r => OtlpSpan.Parse(r.Body))];

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>A span as OTLP carries it (ids in lower-case hex).</summary>
public sealed record OtlpSpan(string Service, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId)
{
    /// <summary>
    /// The spans of an ExportTraceServiceRequest: resource_spans (1) { resource (1) { attributes (1) }, scope_spans (2)
    /// { scope (1) { name (1) }, spans (2) { trace_id (1), span_id (2), parent_span_id (4), name (5) } } }.
    /// </summary>
    public static IEnumerable<OtlpSpan> Parse(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            var service = Fields(resourceSpans, 1).SelectMany(r => Fields(r, 1))
                .Where(kv => Text(kv, 1) == "service.name").Select(kv => Text(Fields(kv, 2).Single(), 1)).FirstOrDefault() ?? "";
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                var scope = Fields(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Fields(scopeSpans, 2))
                    yield return new OtlpSpan(service, scope, Text(span, 5), Hex(span, 1), Hex(span, 2), Hex(span, 4));
            }
        }
    }

    private static List<byte[]> Fields(byte[] message, int number)
    {
        var input = new Google.Protobuf.CodedInputStream(message);
        var found = new List<byte[]>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) == number && Google.Protobuf.WireFormat.GetTagWireType(tag) == Google.Protobuf.WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else
                input.SkipLastField();
        }
        return found;
    }

    private static string Text(byte[] message, int number) => Fields(message, number).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";

    private static string Hex(byte[] message, int number) => Fields(message, number).Select(Convert.ToHexStringLower).FirstOrDefault() ?? "";
}

/// <summary>The SDK hosting: OTLP only where the standard variables say, the resource's service name, what is traced.</summary>
public sealed class GatewayTelemetryTests
{
    private static IConfiguration Environment(params (string Key, string Value)[] variables) =>
        new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    private static (bool Traces, bool Metrics) Signals(IConfiguration environment) =>
        TelemetrySettings.From(environment) is var s ? (s.OtlpTraces, s.OtlpMetrics) : default;

    [Fact]
    public void OtlpSignalsFollowTheStandardVariables()
    {
        Assert.Equal((false, false), Signals(Environment()));
        Assert.Equal((false, false), Signals(Environment(("OTEL_EXPORTER_OTLP_ENDPOINT", " "))));
        Assert.Equal((true, true), Signals(Environment(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"))));
        Assert.Equal((true, false), Signals(Environment(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces"))));
        Assert.Equal((false, true), Signals(Environment(("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:4318/v1/metrics"))));
    }

    [Fact]
    public async Task WithoutAnEndpointNothingIsTracedAndTheServiceHasItsDefaultName()
    {
        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        await using var app = GatewayApp.Build(options, new FakeCluster(), environment: Environment(("OTEL_EXPORTER_OTLP_ENDPOINT", "")));
        Assert.Null(app.Services.GetService<TracerProvider>());
        var resource = app.Services.GetRequiredService<MeterProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(GatewayTelemetry.DefaultServiceName, resource["service.name"]);
        Assert.Equal(StatusEndpoints.Version, resource["service.version"]);
    }

    [Fact]
    public async Task OtlpExportsTheRequestSpansAndMetricsButNotTheProbes()
    {
        await using var sink = await OtlpSink.StartAsync();
        var service = TelemetryKit.UniqueModelId("otlp-svc");
        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        var app = GatewayApp.Build(options, new FakeCluster(), environment: Environment(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.Endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", service),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")));
        var (completion, completionTrace, _) = TelemetryKit.NewTraceparent();
        var (probe, probeTrace, _) = TelemetryKit.NewTraceparent();
        await using (app)
        {
            await app.StartAsync();
            var resource = app.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
            Assert.Equal(service, resource["service.name"]);
            Assert.Equal("test", resource["deployment.environment.name"]);

            using var http = TelemetryKit.Http(new Uri($"http://127.0.0.1:{options.Port}"));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = JsonContent.Create(new { prompt = "Hi", max_tokens = 1 }),
                Headers = { { "traceparent", completion } },
            };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            foreach (var path in new[] { "/health", "/ready", "/metrics" })
            {
                using var quiet = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "traceparent", probe } } };
                await http.SendAsync(quiet);
            }
            await app.StopAsync();
        }

        // Disposing the providers flushed them: the server span and the gateway's below it, in the caller's trace.
        var spans = sink.Spans;
        var server = Assert.Single(spans, s => s.TraceId == completionTrace.ToHexString() && s.Scope == "Microsoft.AspNetCore");
        var gateway = Assert.Single(spans, s => s.TraceId == completionTrace.ToHexString() && s.Scope == GenAi.SourceName);
        Assert.Equal(("text_completion fake", service, server.SpanId), (gateway.Name, gateway.Service, gateway.ParentSpanId));
        Assert.DoesNotContain(spans, s => s.TraceId == probeTrace.ToHexString());
        Assert.True(sink.Got("/v1/metrics", "gen_ai.server.request.duration", "gen_ai.client.token.usage", service), "expected the GenAI metrics in an OTLP metrics export of this service");
    }
}
