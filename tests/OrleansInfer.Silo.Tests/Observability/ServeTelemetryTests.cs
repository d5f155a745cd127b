using System.Globalization;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// End to end against real backends: `serve` after a few requests, scraped by a real Prometheus (GenAI histograms
/// and the KV usage gauge with their labels) and exporting OTLP to a real receiver (one trace from the gateway through
/// the router and worker grains to the engine, W3C traceparent honoured).
/// </summary>
[Collection(nameof(ObservabilityCollection))]
public sealed class ServeTelemetryTests(ServeTelemetryFixture serve) : IClassFixture<ServeTelemetryFixture>
{
    private const string Model = ServeTelemetryFixture.Model;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The GenAI conventions' advice for gen_ai.server.time_to_first_token (plus +Inf).</summary>
    private static readonly double[] TtftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, double.PositiveInfinity];

    [Fact]
    public async Task PrometheusHasTheTimeToFirstTokenHistogramPerOperation()
    {
        await serve.Prometheus.WaitForTargetsUpAsync(Deadline);
        var counts = await serve.Prometheus.WaitForAsync(
            $"sum by (gen_ai_operation_name) (gen_ai_server_time_to_first_token_seconds_count{{gen_ai_request_model=\"{Model}\",gen_ai_provider_name=\"orleans_infer\"}})",
            Deadline, $"{ServeTelemetryFixture.ChatRequests} chat and {ServeTelemetryFixture.CompletionRequests} text_completion first tokens",
            r => r.Count == 2 && r.Sum(s => s.Value) == ServeTelemetryFixture.ChatRequests + ServeTelemetryFixture.CompletionRequests, namePrefix: "gen_ai");
        Assert.Equal([("chat", ServeTelemetryFixture.ChatRequests), ("text_completion", ServeTelemetryFixture.CompletionRequests)],
            counts.Select(s => (s.Labels["gen_ai_operation_name"], (int)s.Value)).Order());

        var buckets = await serve.Prometheus.QueryAsync($"gen_ai_server_time_to_first_token_seconds_bucket{{gen_ai_request_model=\"{Model}\",gen_ai_operation_name=\"chat\"}}");
        Assert.Equal(TtftBuckets, buckets.Select(b => ParseLe(b.Labels["le"])).Order());
        Assert.Equal(ServeTelemetryFixture.ChatRequests, buckets.Single(b => double.IsPositiveInfinity(ParseLe(b.Labels["le"]))).Value);
    }

    [Fact]
    public async Task PrometheusHasTheOtherGenAiInstruments()
    {
        await serve.Prometheus.WaitForTargetsUpAsync(Deadline);
        var duration = await serve.Prometheus.WaitForAsync($"gen_ai_server_request_duration_seconds_count{{gen_ai_request_model=\"{Model}\"}}",
            Deadline, "the request duration of every request", r => r.Sum(s => s.Value) == 4, namePrefix: "gen_ai");
        Assert.All(duration, s => Assert.Equal(("orleans_infer", Model), (s.Labels["gen_ai_provider_name"], s.Labels["gen_ai_response_model"])));
        var tokens = await serve.Prometheus.WaitForAsync($"sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{{gen_ai_request_model=\"{Model}\"}})",
            Deadline, $"{serve.PromptTokens} input and {serve.CompletionTokens} output tokens", r => r.Count == 2, namePrefix: "gen_ai");
        Assert.Equal([("input", serve.PromptTokens), ("output", serve.CompletionTokens)], tokens.Select(s => (s.Labels["gen_ai_token_type"], (int)s.Value)).Order());
        await serve.Prometheus.WaitForAsync($"gen_ai_server_time_per_output_token_seconds_count{{gen_ai_request_model=\"{Model}\"}}",
            Deadline, "the time per output token series", namePrefix: "gen_ai");
    }

    [Fact]
    public async Task PrometheusHasTheKvCacheUsageOfTheWorkerWithItsLabels()
    {
        await serve.Prometheus.WaitForTargetsUpAsync(Deadline);
        var (key, device) = serve.Worker;
        // OpenTelemetry's Prometheus exporter 1.20.1-beta.1 renders orleansinfer.kv_cache.usage (unit 1) with no unit suffix.
        var usage = Assert.Single(await serve.Prometheus.WaitForAsync($"orleansinfer_kv_cache_usage{{model=\"{Model}\"}}",
            Deadline, "the KV cache usage of the worker", namePrefix: "orleansinfer"));
        Assert.Equal((key, WorkerKeys.Parse(key).Silo, device), (usage.Labels["worker"], usage.Labels["silo"], usage.Labels["device"]));
        Assert.InRange(usage.Value, 0, 1);

        var blocks = await serve.Prometheus.WaitForAsync($"orleansinfer_kv_cache_blocks{{model=\"{Model}\",worker=\"{key}\"}}",
            Deadline, "the KV blocks by state", namePrefix: "orleansinfer");
        Assert.Equal(["cached", "free", "used"], blocks.Select(b => b.Labels["state"]).Order());
        var generated = await serve.Prometheus.WaitForAsync($"orleansinfer_generation_tokens_total{{model=\"{Model}\",worker=\"{key}\"}}",
            Deadline, $"{serve.CompletionTokens} generation tokens", r => r.Count == 1 && r[0].Value == serve.CompletionTokens, namePrefix: "orleansinfer");
        Assert.Equal(serve.CompletionTokens, Assert.Single(generated).Value);
    }

    [Fact]
    public async Task OneTraceRunsFromTheGatewayThroughTheRouterAndWorkerToTheEngine()
    {
        var trace = await WaitForTrace(ServeTelemetryFixture.ChatTraceId, ServeTelemetryFixture.ChatClientSpanId, $"chat {Model}");
        var server = Assert.Single(trace, s => s.ParentSpanId == ServeTelemetryFixture.ChatClientSpanId);
        Assert.Equal("SERVER", server.Kind);

        var gateway = Assert.Single(trace, s => s.Name == $"chat {Model}");
        Assert.Equal(("INTERNAL", server.SpanId), (gateway.Kind, gateway.ParentSpanId));
        Assert.Equal(("chat", "orleans_infer", Model), (gateway.Text("gen_ai.operation.name"), gateway.Text("gen_ai.provider.name"), gateway.Text("gen_ai.request.model")));
        var answer = serve.ChatAnswer;
        Assert.Equal(((long)answer.PromptTokens, (long)answer.CompletionTokens), (gateway.Integer("gen_ai.usage.input_tokens"), gateway.Integer("gen_ai.usage.output_tokens")));
        Assert.Equal([answer.FinishReason], gateway.Attributes["gen_ai.response.finish_reasons"].EnumerateArray().Select(r => r.GetString()));
        Assert.Contains(gateway.Events, e => e.Name == "gen_ai.first_token");

        var router = Assert.Single(trace, s => s.Name == "orleansinfer.router.place");
        var worker = Assert.Single(trace, s => s.Name == "orleansinfer.worker.generate");
        var engine = Assert.Single(trace, s => s.Name == "orleansinfer.engine.request");
        Assert.True(Traces.Ancestors(trace, router).Contains(gateway), $"the router span descends from the gateway span: {Traces.Path(trace, router)}");
        Assert.True(Traces.Ancestors(trace, worker).Contains(gateway), $"the worker span descends from the gateway span: {Traces.Path(trace, worker)}");
        Assert.True(Traces.Ancestors(trace, engine).Contains(worker), $"the engine span descends from the worker span: {Traces.Path(trace, engine)}");
        Assert.Equal(("OrleansInfer.Cluster", "OrleansInfer.Cluster", "OrleansInfer.Engine"), (router.Scope, worker.Scope, engine.Scope));
        Assert.Equal((Model, serve.Worker.Key, WorkerKeys.Parse(serve.Worker.Key).Silo, serve.Worker.Device),
            (worker.Text("model"), worker.Text("worker"), worker.Text("silo"), worker.Text("device")));
        var events = engine.Events.Where(e => e.Name is "queued" or "scheduled" or "first_token" or "finished").ToList();
        Assert.Equal(["queued", "scheduled", "first_token", "finished"], events.Select(e => e.Name));
        var finished = events[^1].Attributes;
        Assert.Equal((answer.FinishReason, answer.PromptTokens, answer.CompletionTokens),
            (finished["finish_reason"].GetString(), finished["orleansinfer.prompt_tokens"].GetInt32(), finished["orleansinfer.output_tokens"].GetInt32()));

        Assert.All(trace, s => Assert.Equal(ServeTelemetryFixture.ServiceName, s.ServiceName));
        Assert.All(trace, s => Assert.Equal(ServeTelemetryFixture.Environment, s.Resource["deployment.environment.name"].GetString()));

        // Orleans' grain calls are in the trace, but not a span pair per streamed batch of tokens.
        Assert.Contains(trace, s => s.Name == "IWorkerGrain/Generate");
        Assert.DoesNotContain(trace, s => s.Name.StartsWith("IAsyncEnumerableGrainExtension/MoveNext", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OrleansBackgroundCallsStartNoTraces()
    {
        // The load reports run every 250 ms from the start; by the time a request's trace arrived, several were made.
        await WaitForTrace(ServeTelemetryFixture.CompletionTraceId, ServeTelemetryFixture.CompletionClientSpanId, $"text_completion {Model}");
        var spans = await serve.Receiver.SpansAsync();
        Assert.DoesNotContain(spans, s => s.Name is "IRouterControl/ReportLoad" or "IWorkerControl/ReportNow");
        Assert.All(spans.Where(s => s.ParentSpanId is null or ""), s => Assert.Contains(s.Kind, new[] { "SERVER", "INTERNAL" }));
    }

    [Fact]
    public async Task ACompletionIsATextCompletionTraceDownToTheEngine()
    {
        var trace = await WaitForTrace(ServeTelemetryFixture.CompletionTraceId, ServeTelemetryFixture.CompletionClientSpanId, $"text_completion {Model}");
        var gateway = Assert.Single(trace, s => s.Name == $"text_completion {Model}");
        Assert.Equal(("text_completion", (long)serve.CompletionAnswer.CompletionTokens), (gateway.Text("gen_ai.operation.name"), gateway.Integer("gen_ai.usage.output_tokens")));
        var engine = Assert.Single(trace, s => s.Name == "orleansinfer.engine.request");
        Assert.True(Traces.Ancestors(trace, engine).Contains(gateway), $"the engine span descends from the gateway span: {Traces.Path(trace, engine)}");
    }

    [Fact]
    public async Task OtlpMetricsCarryTheGenAiAndEngineInstruments()
    {
        var points = await serve.Receiver.WaitForMetricsAsync(
            all => all.Any(p => p.Name == "gen_ai.server.time_to_first_token") && all.Any(p => p.Name == "orleansinfer.kv_cache.usage"),
            Deadline, "gen_ai.server.time_to_first_token and orleansinfer.kv_cache.usage over OTLP");
        var ttft = points.Where(p => p.Name == "gen_ai.server.time_to_first_token").ToList();
        Assert.All(ttft, p => Assert.Equal(("histogram", "s", Model, ServeTelemetryFixture.ServiceName), (p.Type, p.Unit, p.Text("gen_ai.request.model"), p.ServiceName)));
        var kv = points.Where(p => p.Name == "orleansinfer.kv_cache.usage").ToList();
        Assert.All(kv, p => Assert.Equal(("gauge", "1", Model, serve.Worker.Key), (p.Type, p.Unit, p.Text("model"), p.Text("worker"))));
    }

    /// <summary>Waits for a trace holding the gateway, router, worker and engine spans with every parent link resolved.</summary>
    private async Task<IReadOnlyList<OtlpSpan>> WaitForTrace(string traceId, string clientSpan, string gatewaySpan)
    {
        string[] names = [gatewaySpan, "orleansinfer.router.place", "orleansinfer.worker.generate", "orleansinfer.engine.request"];
        return await serve.Receiver.WaitForTraceAsync(traceId,
            t => names.All(n => t.Any(s => s.Name == n)) && t.Any(s => s.ParentSpanId == clientSpan) && Traces.Linked(t, clientSpan),
            Deadline, $"spans {string.Join(", ", names)}, one child of the client span {clientSpan}, every parent in the trace");
    }

    private static double ParseLe(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
}
