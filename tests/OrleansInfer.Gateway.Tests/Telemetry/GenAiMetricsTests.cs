using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Gateway.Tests.OpenAi;
using OrleansInfer.Testing;
using static OrleansInfer.Gateway.Tests.Grpc.GrpcTestKit;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>
/// The GenAI metrics of a real gateway over both front-ends: counts, attributes and token sums equal what the
/// responses reported; failures carry error.type and record no TTFT, TPOT or tokens.
/// </summary>
public sealed class GenAiMetricsTests
{
    private const int MaxTokens = 4;
    private const string Duration = "gen_ai.server.request.duration";
    private const string Ttft = "gen_ai.server.time_to_first_token";
    private const string Tpot = "gen_ai.server.time_per_output_token";
    private const string Usage = "gen_ai.client.token.usage";

    [Fact]
    public async Task EveryRequestIsMeasuredWithTheUsageItReported()
    {
        var modelId = TelemetryKit.UniqueModelId("metrics");
        var template = TestChatTemplates.WriteFile(TestChatTemplates.QuestionAnswer);
        await using var server = await GatewayServer.StartAsync(configureSilo: o => (o.ModelId, o.ChatTemplate) = (modelId, template));
        using var measurements = new GenAiMeasurements(server.Services);
        using var http = OpenAiKit.Http(server);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var grpc = new Contracts.V1.Inference.InferenceClient(channel);
        var reported = new Dictionary<string, (int Input, int Output, int Requests)> { ["text_completion"] = default, ["chat"] = default };
        void Report(string operation, (int Input, int Output) usage)
        {
            var (i, o, n) = reported[operation];
            reported[operation] = (i + usage.Input, o + usage.Output, n + 1);
        }

        // Completions: JSON, two prompts in one request, SSE with usage, gRPC Generate.
        Report("text_completion", await JsonUsageAsync(http, "/v1/completions", new { model = modelId, prompt = "Once upon a time", max_tokens = MaxTokens, ignore_eos = true }));
        Report("text_completion", await JsonUsageAsync(http, "/v1/completions", new { model = modelId, prompt = new[] { "A cat", "The dog ran" }, max_tokens = MaxTokens, ignore_eos = true }));
        Report("text_completion", await SseUsageAsync(http, "/v1/completions", new { model = modelId, prompt = "Lily had a ball", max_tokens = MaxTokens, ignore_eos = true, stream = true, stream_options = new { include_usage = true } }));
        var generate = new Contracts.V1.GenerateRequest { Model = modelId, Text = "Tim saw a bird", Sampling = Greedy(MaxTokens) };
        generate.Sampling.IgnoreEos = true;
        Report("text_completion", GrpcUsage(await ReadAllAsync(grpc.Generate(generate))));
        // Chat: JSON, SSE with usage, gRPC Chat.
        var messages = new[] { new { role = "user", content = "Tell me about a cat." } };
        Report("chat", await JsonUsageAsync(http, "/v1/chat/completions", new { model = modelId, messages, max_tokens = MaxTokens, ignore_eos = true }));
        Report("chat", await SseUsageAsync(http, "/v1/chat/completions", new { model = modelId, messages, max_tokens = MaxTokens, ignore_eos = true, stream = true, stream_options = new { include_usage = true } }));
        var chat = new ChatRequest { Model = modelId, Sampling = Greedy(MaxTokens) };
        chat.Sampling.IgnoreEos = true;
        chat.Messages.Add(new Contracts.V1.ChatMessage { Role = "user", Content = "Tell me about a dog." });
        Report("chat", GrpcUsage(await ReadAllAsync(grpc.Chat(chat))));

        // Failures: an unknown model (404 / NOT_FOUND) and a prompt as long as the context (400 / INVALID_ARGUMENT).
        var context = (await server.Cluster.GetModelAsync(modelId, CancellationToken.None)).ContextLength;
        var tooLong = Enumerable.Repeat(403, context).ToArray();
        await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", new { model = "no-such-model", messages }, 404, "model");
        await OpenAiKit.AssertErrorAsync(http, "/v1/completions", new { model = modelId, prompt = tooLong }, 400, "prompt");
        Assert.Equal(StatusCode.NotFound, (await FailureOf(() => ReadAllAsync(grpc.Generate(new Contracts.V1.GenerateRequest { Model = "no-such-model", Text = "x" })))).StatusCode);
        var longIds = new Contracts.V1.GenerateRequest { Model = modelId, TokenIds = new TokenIds() };
        longIds.TokenIds.Ids.Add(tooLong);
        Assert.Equal(StatusCode.InvalidArgument, (await FailureOf(() => ReadAllAsync(grpc.Generate(longIds)))).StatusCode);

        await measurements.WaitForRequestsAsync(reported.Values.Sum(r => r.Requests) + 4);
        // Settled: nothing more may come.
        await server.AssertAllBlocksFreeAsync();
        var all = measurements.All;
        Assert.Equal(11, all.Count(m => m.Instrument == Duration));
        Assert.All(all, m => Assert.Equal("orleans_infer", m.Tag("gen_ai.provider.name")));

        foreach (var (operation, (input, output, requests)) in reported)
        {
            var ok = all.Where(m => m.Tag("gen_ai.operation.name") == operation && m.Tag("error.type") is null).ToList();
            Assert.All(ok, m => Assert.Equal(modelId, m.Tag("gen_ai.request.model")));
            Assert.All(ok, m => Assert.Equal(modelId, m.Tag("gen_ai.response.model")));
            Assert.Equal(requests, ok.Count(m => m.Instrument == Duration));
            Assert.Equal(requests, ok.Count(m => m.Instrument == Ttft));
            Assert.Equal(requests, ok.Count(m => m.Instrument == Tpot));
            Assert.Equal(input, ok.Where(m => m.Instrument == Usage && m.Tag("gen_ai.token.type") == "input").Sum(m => m.Value));
            Assert.Equal(output, ok.Where(m => m.Instrument == Usage && m.Tag("gen_ai.token.type") == "output").Sum(m => m.Value));
            Assert.Equal(2 * requests, ok.Count(m => m.Instrument == Usage));
            Assert.All(ok.Where(m => m.Instrument is Ttft or Tpot or Duration), m => Assert.InRange(m.Value, 1e-6, 60));
        }
        // ignore_eos: every output is exactly MaxTokens long (the two-prompt completion has two).
        Assert.Equal((5 * MaxTokens, 3 * MaxTokens), (reported["text_completion"].Output, reported["chat"].Output));

        // Failed requests: their duration with error.type; the unknown name is no label (callers could make series at will).
        var failed = all.Where(m => m.Tag("error.type") is not null).ToList();
        Assert.All(failed, m => Assert.Equal(Duration, m.Instrument));
        var described = failed.Select(m => $"{m.Tag("gen_ai.operation.name")} {m.Tag("error.type")} {m.Tag("gen_ai.request.model") ?? "-"}").Order().ToList();
        Assert.Equal(new[]
        {
            "chat model_not_found -",
            $"text_completion INVALID_ARGUMENT {modelId}",
            "text_completion NOT_FOUND -",
            $"text_completion invalid_request_error {modelId}",
        }.Order(), described);
        File.Delete(template);
    }

    private static async Task<(int, int)> JsonUsageAsync(HttpClient http, string path, object body)
    {
        var (response, json) = await OpenAiKit.PostAsync(http, path, body);
        Assert.Equal(200, (int)response.StatusCode);
        return UsageOf(json.GetProperty("usage"));
    }

    private static async Task<(int, int)> SseUsageAsync(HttpClient http, string path, object body)
    {
        var events = await OpenAiKit.StreamAsync(http, path, body);
        Assert.True(events.Done);
        return UsageOf(events.Data.Last().GetProperty("usage"));
    }

    private static (int, int) UsageOf(JsonElement usage) => (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32());

    private static (int, int) GrpcUsage(List<GenerateResponse> responses)
    {
        var usage = CompletesOf(responses).Last().Usage;
        return (usage.PromptTokens, usage.CompletionTokens);
    }
}
