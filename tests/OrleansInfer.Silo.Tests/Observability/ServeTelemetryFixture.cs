using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// `orleans-infer serve` on stories260K as a child process exporting OTLP (http/protobuf) to the OTLP receiver, after a
/// few chat and completion requests (streamed and not, two of them carrying a W3C traceparent chosen here), with a real
/// Prometheus scraping the gateway's /metrics every second. Everything is torn down on dispose, also after a failed start.
/// </summary>
public sealed class ServeTelemetryFixture : IAsyncLifetime
{
    public const string Model = "stories260K";
    public const string ServiceName = "orleans-infer-e2e";
    public const string Environment = "e2e-test";

    /// <summary>The trace of the non-streamed chat request, and the client span it names as its parent.</summary>
    public const string ChatTraceId = "0af7651916cd43dd8448eb211c80319c", ChatClientSpanId = "b7ad6b7169203331";

    /// <summary>The trace of the non-streamed completion request, and its client span.</summary>
    public const string CompletionTraceId = "5f2c1d3e4b6a79880a1b2c3d4e5f6071", CompletionClientSpanId = "00f067aa0ba902b7";

    private ChildProcess? _serve;

    public OtlpReceiver Receiver { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public int HttpPort { get; private set; }

    /// <summary>What the gateway answered to the traced chat and completion requests: usage and finish reason.</summary>
    public Answer ChatAnswer { get; private set; } = null!;

    public Answer CompletionAnswer { get; private set; } = null!;

    /// <summary>Prompt and completion tokens of all the requests, as the gateway reported their usage.</summary>
    public int PromptTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    /// <summary>The only worker, as /cluster/status lists it: key and device.</summary>
    public (string Key, string Device) Worker { get; private set; }

    /// <summary>Requests sent per GenAI operation (each succeeds).</summary>
    public const int ChatRequests = 2, CompletionRequests = 2;

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        Receiver = await OtlpReceiver.StartAsync();
        int grpc = FreePorts.Next();
        HttpPort = FreePorts.Next();
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = ServiceName,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"deployment.environment.name={Environment}",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        };
        _serve = new ChildProcess("serve", environment, "serve", "--model", SharedData.Stories260KGguf,
            "--chat-template", SharedData.File("chat-templates", "google-gemma-2-2b-it.jinja"),
            "--threads", "1", "--port", $"{HttpPort}", "--grpc-port", $"{grpc}");
        await _serve.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(60), "the ready line");

        // No propagation from this process: the only traceparent a request carries is the one a test sets.
        Http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var status = await Http.GetFromJsonAsync<JsonElement>("/cluster/status");
        var worker = status.GetProperty("workers").EnumerateArray().Single();
        Worker = (worker.GetProperty("key").GetString()!, worker.GetProperty("device").GetString()!);

        ChatAnswer = await SendAsync("/v1/chat/completions", Chat(stream: false), $"00-{ChatTraceId}-{ChatClientSpanId}-01");
        CompletionAnswer = await SendAsync("/v1/completions", Completion(stream: false), $"00-{CompletionTraceId}-{CompletionClientSpanId}-01");
        Answer[] all = [ChatAnswer, CompletionAnswer,
            await SendAsync("/v1/chat/completions", Chat(stream: true), traceparent: null), await SendAsync("/v1/completions", Completion(stream: true), traceparent: null)];
        PromptTokens = all.Sum(a => a.PromptTokens);
        CompletionTokens = all.Sum(a => a.CompletionTokens);

        // The Prometheus tests wait for the scrape themselves, so a missing /metrics fails them and not the trace tests.
        Prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string> { ["gateway"] = $"127.0.0.1:{HttpPort}" });
    }

    private static object Chat(bool stream) => new
    {
        model = Model,
        messages = new[] { new { role = "user", content = "Tell me a story about a cat." } },
        max_tokens = 8,
        temperature = 0,
        stream,
        stream_options = stream ? new { include_usage = true } : null,
    };

    private static object Completion(bool stream) =>
        new { model = Model, prompt = "Once upon a time", max_tokens = 8, temperature = 0, stream, stream_options = stream ? new { include_usage = true } : null };

    /// <summary>Sends a request (a stream read to its end) and returns the usage the gateway answered (the last chunk's when streamed).</summary>
    private async Task<Answer> SendAsync(string path, object body, string? traceparent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(body, options: new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull }),
        };
        if (traceparent is not null) request.Headers.Add("traceparent", traceparent);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
        var json = text.StartsWith("data:", StringComparison.Ordinal)
            ? text.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)).Select(l => l["data: ".Length..])
                .Last(l => l.Contains("\"usage\":{", StringComparison.Ordinal))
            : text;
        using var doc = JsonDocument.Parse(json);
        var usage = doc.RootElement.GetProperty("usage");
        var choices = doc.RootElement.GetProperty("choices");
        var finish = choices.GetArrayLength() == 1 ? choices[0].GetProperty("finish_reason").GetString() : null; // a stream's usage chunk has none
        return new Answer(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), finish);
    }

    /// <summary>A request's usage and (not streamed) finish reason.</summary>
    public sealed record Answer(int PromptTokens, int CompletionTokens, string? FinishReason);

    /// <summary>The serve process's last output lines, for failure messages.</summary>
    public string ServeOutput => _serve is null ? "" : string.Join('\n', _serve.Lines.TakeLast(30));

    public Task DisposeAsync()
    {
        Http?.Dispose();
        Prometheus?.Dispose();
        _serve?.Dispose();
        Receiver?.Dispose();
        return Task.CompletedTask;
    }
}
