using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// The OTLP receiver on its own: the .NET OTLP exporter (http/protobuf) sends it spans and metrics, and it reports
/// exactly what was sent: ids, parent links, kinds, attributes, events, the resource.
/// </summary>
[Collection(nameof(ObservabilityCollection))]
public sealed class OtlpReceiverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ReceivesTheSpansOfTheDotNetOtlpExporter()
    {
        using var receiver = await OtlpReceiver.StartAsync();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736", remoteParent = "00f067aa0ba902b7";
        using var source = new ActivitySource("OrleansInfer.Tests.OtlpHarness");
        string parentId, childId;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .ConfigureResource(r => r.Clear().AddService("otlp-harness").AddAttributes([new("deployment.environment.name", "harness")]))
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri($"{receiver.Endpoint}/v1/traces");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            var remote = ActivityContext.Parse($"00-{traceId}-{remoteParent}-01", null);
            using (var parent = source.StartActivity("parent span", ActivityKind.Server, remote)!)
            {
                parent.SetTag("gen_ai.request.model", "stories260K");
                parent.SetTag("gen_ai.usage.output_tokens", 7);
                using (var child = source.StartActivity("child span")!)
                {
                    child.AddEvent(new ActivityEvent("first_token", tags: new ActivityTagsCollection { ["index"] = 0 }));
                    childId = child.SpanId.ToHexString();
                }
                parentId = parent.SpanId.ToHexString();
            }
        }

        var trace = await receiver.WaitForTraceAsync(traceId, t => t.Count == 2, Deadline, "the two spans");
        var p = Assert.Single(trace, s => s.Name == "parent span");
        var c = Assert.Single(trace, s => s.Name == "child span");
        Assert.Equal((parentId, remoteParent, "SERVER"), (p.SpanId, p.ParentSpanId, p.Kind));
        Assert.Equal((childId, parentId, "INTERNAL"), (c.SpanId, c.ParentSpanId, c.Kind));
        Assert.Equal(("stories260K", 7L), (p.Text("gen_ai.request.model"), p.Integer("gen_ai.usage.output_tokens")));
        var e = Assert.Single(c.Events);
        Assert.Equal(("first_token", 0L), (e.Name, e.Attributes["index"].GetInt64()));
        Assert.All(trace, s => Assert.Equal(("otlp-harness", "OrleansInfer.Tests.OtlpHarness"), (s.ServiceName, s.Scope)));
        Assert.Equal("harness", p.Resource["deployment.environment.name"].GetString());
        Assert.Equal(2, File.ReadAllLines(receiver.SpansFile).Length);
    }

    [Fact]
    public async Task ReceivesTheMetricsOfTheDotNetOtlpExporter()
    {
        using var receiver = await OtlpReceiver.StartAsync();
        using var meter = new Meter("OrleansInfer.Tests.OtlpHarness");
        var tokens = meter.CreateCounter<long>("harness.tokens", "{token}");
        var latency = meter.CreateHistogram<double>("harness.latency", "s");
        using (var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .ConfigureResource(r => r.Clear().AddService("otlp-harness"))
            .AddOtlpExporter((o, reader) =>
            {
                o.Endpoint = new Uri($"{receiver.Endpoint}/v1/metrics");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000; // only the flush below exports
            })
            .Build())
        {
            tokens.Add(5, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
            latency.Record(0.25, new KeyValuePair<string, object?>("model", "stories260K"));
            Assert.True(provider.ForceFlush(10_000), "the meter provider's flush to the receiver did not complete");
        }

        // The flush exports once and the provider's shutdown once more (cumulative): the first point of each is the flush's.
        var points = await receiver.WaitForMetricsAsync(all => all.Any(p => p.Name == "harness.latency"), Deadline, "harness.tokens and harness.latency");
        var counter = points.First(p => p.Name == "harness.tokens");
        Assert.Equal(("sum", "{token}", "output", "otlp-harness", 5L), (counter.Type, counter.Unit, counter.Text("gen_ai.token.type"), counter.ServiceName, counter.Value.GetInt64()));
        var histogram = points.First(p => p.Name == "harness.latency");
        Assert.Equal(("histogram", "s", "stories260K"), (histogram.Type, histogram.Unit, histogram.Text("model")));
        Assert.Equal((1L, 0.25), (histogram.Value.GetProperty("count").GetInt64(), histogram.Value.GetProperty("sum").GetDouble()));
    }
}
