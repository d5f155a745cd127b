using System.Net.Http.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>What reaches the cluster for a request's parameters, and failures at chosen points, against <see cref="FakeCluster"/>.</summary>
public sealed class RequestMappingTests
{
    [Fact]
    public async Task SamplingParametersReachTheEngineFieldForField()
    {
        var fake = new FakeCluster();
        var (app, http) = await fake.StartGatewayAsync();
        await using var host = app;
        using var client = http;
        var (response, _) = await OpenAiKit.PostAsync(http, "/v1/completions", new
        {
            prompt = new[] { 1, 2, 3 }, max_tokens = 5, max_completion_tokens = 7, temperature = 0.5, top_p = 0.9, top_k = -1, min_p = 0.1,
            repetition_penalty = 1.1, presence_penalty = 0.2, frequency_penalty = 0.3, n = 2, best_of = 3, seed = -1, stop = "x",
            stop_token_ids = new[] { 9 }, ignore_eos = true, logprobs = 2, priority = 5, user = "u",
        });
        Assert.Equal(200, (int)response.StatusCode);
        var r = Assert.Single(fake.Requests);
        var s = r.Sampling;
        Assert.Equal([1, 2, 3], r.PromptTokens);
        Assert.Equal(5, r.Priority);
        Assert.Equal(7, s.MaxTokens);
        Assert.Equal(0.5f, s.Temperature);
        Assert.Equal(0.9f, s.TopP);
        Assert.Equal(0, s.TopK);
        Assert.Equal(0.1f, s.MinP);
        Assert.Equal(1.1f, s.RepetitionPenalty);
        Assert.Equal(0.2f, s.PresencePenalty);
        Assert.Equal(0.3f, s.FrequencyPenalty);
        Assert.Equal(2, s.N);
        Assert.Equal(3, s.BestOf);
        Assert.Equal(ulong.MaxValue, s.Seed);
        Assert.Equal(["x"], s.Stop);
        Assert.Equal([9], s.StopTokenIds);
        Assert.True(s.IgnoreEos);
        Assert.Equal(2, s.Logprobs);

        // Without max_tokens the completion may fill the context (vLLM); OpenAI's defaults otherwise.
        await OpenAiKit.PostAsync(http, "/v1/completions", new { prompt = new[] { 1, 2, 3 } });
        var d = fake.Requests[^1].Sampling;
        Assert.Equal(128 - 3, d.MaxTokens);
        Assert.Equal(1f, d.Temperature);
        Assert.Equal(1, d.N);
        Assert.Null(d.Logprobs);
        Assert.Null(d.Seed);

        // Chat without a template is a 400 on messages.
        Assert.Contains("no chat template", await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } }, 400, "messages"));
    }

    [Fact]
    public async Task AFailureAfterTheStreamStartedIsOneErrorEvent()
    {
        var fake = new FakeCluster
        {
            Generate = (r, ct) => FakeCluster.Script(ct, FakeCluster.Token("Hi"), new GatewayException(GatewayErrorKind.Timeout, "the request took too long")),
        };
        var (app, http) = await fake.StartGatewayAsync();
        await using var host = app;
        using var client = http;
        var events = await OpenAiKit.StreamAsync(http, "/v1/completions", new { prompt = "a", stream = true, max_tokens = 4 });
        Assert.Equal("Hi", OpenAiKit.CompletionTexts(events.Data)[0]);
        var error = Assert.Single(events.Errors).GetProperty("error");
        Assert.Equal("the request took too long", error.GetProperty("message").GetString());
        Assert.Equal("timeout", error.GetProperty("type").GetString());
        Assert.False(events.Done);
    }

    [Fact]
    public async Task InternalFailuresAre500WithoutInternalsAndUnavailableIs503()
    {
        var fake = new FakeCluster { Generate = (r, ct) => FakeCluster.Script(ct, FakeCluster.Token("Hi"), new InvalidOperationException("secret detail")) };
        var (app, http) = await fake.StartGatewayAsync();
        await using var host = app;
        using var client = http;
        var message = await OpenAiKit.AssertErrorAsync(http, "/v1/completions", new { prompt = "a", max_tokens = 4 }, 500, null);
        Assert.DoesNotContain("secret", message);

        fake.Generate = (r, ct) => throw new GatewayException(GatewayErrorKind.Unavailable, "no worker serves model 'fake' now", retryAfter: TimeSpan.FromSeconds(2));
        var response = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "fake", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(400, (int)response.StatusCode); // no template: refused before generating
        var unavailable = await http.PostAsJsonAsync("/v1/completions", new { prompt = "a", stream = true });
        Assert.Equal(503, (int)unavailable.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), unavailable.Headers.RetryAfter?.Delta);
    }
}
