using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Gateway.Tests.OpenAi;
using OrleansInfer.Testing;
using static OrleansInfer.Gateway.Tests.Grpc.GrpcTestKit;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>A gateway serving a model under a name of its own, with the Q/A chat template.</summary>
public sealed class TelemetryServerFixture : IAsyncLifetime
{
    private readonly string _template = TestChatTemplates.WriteFile(TestChatTemplates.QuestionAnswer);

    public GatewayServer Server { get; private set; } = null!;

    public string ModelId { get; } = TelemetryKit.UniqueModelId("spans");

    public async Task InitializeAsync() =>
        Server = await GatewayServer.StartAsync(configureSilo: o => (o.ModelId, o.ChatTemplate) = (ModelId, _template));

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        File.Delete(_template);
    }
}

/// <summary>
/// The gateway's request spans: `{operation} {model}` in the caller's W3C trace (HTTP header or gRPC metadata), a
/// child of the ASP.NET Core server span, with the GenAI attributes, usage and the first-token event.
/// </summary>
public sealed class GenAiSpanTests(TelemetryServerFixture fixture) : IClassFixture<TelemetryServerFixture>
{
    private GatewayServer Server => fixture.Server;

    [Fact]
    public async Task AnHttpChatIsASpanInTheCallersTrace()
    {
        using var spans = new SpanRecorder();
        using var http = TelemetryKit.Http(Server.HttpAddress);
        var (traceparent, trace, caller) = TelemetryKit.NewTraceparent();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = fixture.ModelId, messages = new[] { new { role = "user", content = "Tell me about a cat." } }, max_tokens = 5, temperature = 0, ignore_eos = true }),
            Headers = { { "traceparent", traceparent } },
        };
        using var response = await http.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        var usage = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");

        var span = await spans.GatewaySpanAsync(trace);
        Assert.Equal($"chat {fixture.ModelId}", span.DisplayName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        var server = Assert.Single(spans.InTrace(trace), a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(caller, server.ParentSpanId);
        Assert.Equal(server.SpanId, span.ParentSpanId);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("orleans_infer", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(fixture.ModelId, span.GetTagItem("gen_ai.request.model"));
        Assert.Equal(fixture.ModelId, span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(5, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(0.0, span.GetTagItem("gen_ai.request.temperature"));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(5, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(new[] { "length" }, span.GetTagItem("gen_ai.response.finish_reasons"));
        Assert.Null(span.GetTagItem("error.type"));
        Assert.Equal(["gen_ai.first_token"], span.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task AGrpcGenerateIsASpanInTheTraceOfItsMetadata()
    {
        using var spans = new SpanRecorder();
        using var channel = GrpcChannel.ForAddress(Server.GrpcAddress, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null } });
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var (traceparent, trace, caller) = TelemetryKit.NewTraceparent();
        var request = new Contracts.V1.GenerateRequest { Model = fixture.ModelId, Text = "Once upon a time", Sampling = Greedy(6) };
        request.Sampling.IgnoreEos = true;
        var responses = await ReadAllAsync(client.Generate(request, new Metadata { { "traceparent", traceparent } }));
        var usage = CompletesOf(responses).Last().Usage;

        var span = await spans.GatewaySpanAsync(trace);
        Assert.Equal($"text_completion {fixture.ModelId}", span.DisplayName);
        var server = Assert.Single(spans.InTrace(trace), a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(caller, server.ParentSpanId);
        Assert.Equal(server.SpanId, span.ParentSpanId);
        Assert.Equal("text_completion", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(6, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(usage.PromptTokens, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(6, usage.CompletionTokens);
        Assert.Equal(usage.CompletionTokens, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["gen_ai.first_token"], span.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task FailedRequestsAreErrorSpansWithTheirErrorType()
    {
        using var spans = new SpanRecorder();
        using var http = TelemetryKit.Http(Server.HttpAddress);
        var (notFound, notFoundTrace, _) = TelemetryKit.NewTraceparent();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "no-such-model", messages = new[] { new { role = "user", content = "Hi" } } }),
            Headers = { { "traceparent", notFound } },
        })
        {
            Assert.Equal(404, (int)(await http.SendAsync(request)).StatusCode);
        }
        var span = await spans.GatewaySpanAsync(notFoundTrace);
        Assert.Equal("chat no-such-model", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("model_not_found", span.GetTagItem("error.type"));
        Assert.Null(span.GetTagItem("gen_ai.response.model"));
        Assert.Null(span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Empty(span.Events);

        using var channel = GrpcChannel.ForAddress(Server.GrpcAddress, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null } });
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var (tooLong, tooLongTrace, _) = TelemetryKit.NewTraceparent();
        var context = (await Server.Cluster.GetModelAsync(fixture.ModelId, CancellationToken.None)).ContextLength;
        var request2 = new Contracts.V1.GenerateRequest { Model = fixture.ModelId, TokenIds = new TokenIds() };
        request2.TokenIds.Ids.Add(Enumerable.Repeat(403, context));
        var failure = await FailureOf(() => ReadAllAsync(client.Generate(request2, new Metadata { { "traceparent", tooLong } })));
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        span = await spans.GatewaySpanAsync(tooLongTrace);
        Assert.Equal($"text_completion {fixture.ModelId}", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("INVALID_ARGUMENT", span.GetTagItem("error.type"));
        Assert.Equal(fixture.ModelId, span.GetTagItem("gen_ai.response.model"));
    }

    [Fact]
    public async Task APassedDeadlineIsDeadlineExceeded()
    {
        using var spans = new SpanRecorder();
        using var channel = GrpcChannel.ForAddress(Server.GrpcAddress, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null } });
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var (traceparent, trace, _) = TelemetryKit.NewTraceparent();
        var request = new Contracts.V1.GenerateRequest { Model = fixture.ModelId, Text = "Once upon a time", Sampling = new SamplingParams { Temperature = 0, MaxTokens = 500, IgnoreEos = true } };
        // Warm: a cold first call may spend the deadline before its handler runs (then there is no span).
        await ReadAllAsync(client.Generate(new Contracts.V1.GenerateRequest { Model = fixture.ModelId, Text = "Hi", Sampling = Greedy(1) }));
        RpcException e;
        using (Server.HoldEngine())
        {
            e = await FailureOf(() => ReadAllAsync(client.Generate(request, new Metadata { { "traceparent", traceparent } }, DateTime.UtcNow.AddMilliseconds(300))));
        }
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        var span = await spans.GatewaySpanAsync(trace);
        Assert.Equal("DEADLINE_EXCEEDED", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        await Server.AssertAllBlocksFreeAsync();
    }
}
