using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>Every error status in OpenAI's shape, seen raw and as the official client's typed exception.</summary>
public sealed class ErrorTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    private GatewayServer Server => fixture.Server;

    [Fact]
    public async Task BadParametersAre400sNamingThem()
    {
        using var http = OpenAiKit.Http(Server);
        const string c = "/v1/completions";
        await OpenAiKit.AssertErrorAsync(http, c, new { max_tokens = 4 }, 400, "prompt");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = 5 }, 400, "prompt");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", temperature = "hot" }, 400, "temperature");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", max_tokens = 1.5 }, 400, "max_tokens");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", stream = "yes" }, 400, "stream");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", stop = 3 }, 400, "stop");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", temperature = -1 }, 400, "temperature");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", top_p = 0 }, 400, "top_p");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", n = 0 }, 400, "n");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = new[] { 1, 99999 } }, 400, "prompt");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", suffix = "b" }, 400, "suffix");
        await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", stream_options = new { include_usage = true } }, 400, "stream_options");
        Assert.Equal("logit_bias is not supported", await OpenAiKit.AssertErrorAsync(http, c, new { prompt = "a", logit_bias = new Dictionary<string, int> { ["5"] = 10 } }, 400, "logit_bias"));
        Assert.Equal("response_format is not supported yet",
            await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } }, response_format = new { type = "json_object" } }, 400, "response_format"));
        await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", new { messages = "hi" }, 400, "messages");
        await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", new { messages = new[] { new { content = "hi" } } }, 400, "messages[0].role");

        using var notJson = await http.PostAsync(c, new StringContent("{nope", Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)notJson.StatusCode);
        Assert.Equal("invalid_request_error", (await notJson.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("type").GetString());
        await Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task PromptsBeyondTheContextSayBothNumbers()
    {
        using var http = OpenAiKit.Http(Server);
        var context = (await Server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength;
        var message = await OpenAiKit.AssertErrorAsync(http, "/v1/completions", new { prompt = new[] { 1, 403, 407 }, max_tokens = context }, 400, "max_tokens");
        Assert.Equal($"This model's maximum context length is {context} tokens. However, you requested {context + 3} tokens (3 in the prompt, {context} in the completion). " +
            "Please reduce the length of the prompt or completion.", message);
        var tooLong = Enumerable.Repeat(403, context).ToArray();
        Assert.Contains($"maximum context length is {context} tokens", await OpenAiKit.AssertErrorAsync(http, "/v1/completions", new { prompt = tooLong }, 400, "prompt"));
        var longChat = new { messages = new[] { new { role = "user", content = string.Join(' ', Enumerable.Repeat("story", context)) } } };
        Assert.Contains("in the messages", await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions", longChat, 400, "messages"));
    }

    [Fact]
    public async Task UnknownModelIs404RawAndTyped()
    {
        using var http = OpenAiKit.Http(Server);
        var message = await OpenAiKit.AssertErrorAsync(http, "/v1/completions", new { model = "gpt-4", prompt = "a" }, 404, "model");
        Assert.Contains("gpt-4", message);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => OpenAiKit.Client(Server).GetChatClient("gpt-4").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, e.Status);
        var unknown = await http.GetAsync("/v1/models/gpt-4");
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Equal("model_not_found", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
        var noRoute = await http.GetAsync("/v1/embeddings");
        Assert.Equal(404, (int)noRoute.StatusCode);
        Assert.Equal("invalid_request_error", (await noRoute.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task TypedClientSeesA400()
    {
        var chat = OpenAiKit.Client(Server).GetChatClient("stories260K");
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = -2 }));
        Assert.Equal(400, e.Status);
        Assert.Contains("temperature", e.Message);
    }
}

/// <summary>Errors that need their own server settings: 401, 503 with Retry-After, 413.</summary>
public sealed class ErrorStatusTests
{
    [Fact]
    public async Task MissingKeyIs401ForTheClient()
    {
        await using var server = await OpenAiKit.StartAsync(o => o.ApiKeys = ["right"]);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => OpenAiKit.Client(server, "wrong").GetChatClient("stories260K").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, e.Status);
        ChatCompletion ok = await OpenAiKit.Client(server, "right").GetChatClient("stories260K").CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.Equal(2, ok.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task FullQueueIs503WithRetryAfterAndOversizedBodyIs413()
    {
        await using var server = await OpenAiKit.StartAsync(o =>
        {
            o.MaxQueuedRequests = 0;
            o.MaxRequestBodyBytes = 2048;
        });
        using var http = OpenAiKit.Http(server);
        foreach (var stream in new[] { false, true })
        {
            var response = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Once", max_tokens = 4, stream });
            Assert.Equal(503, (int)response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "expected Retry-After");
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Equal("service_unavailable", error.GetProperty("type").GetString());
            Assert.Equal("overloaded", error.GetProperty("code").GetString());
        }
        var e = await Assert.ThrowsAsync<ClientResultException>(() => OpenAiKit.Client(server).GetChatClient("stories260K").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(503, e.Status);

        var big = await http.PostAsJsonAsync("/v1/completions", new { prompt = new string('a', 4096) });
        Assert.Equal(413, (int)big.StatusCode);
        var tooLarge = (await big.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("invalid_request_error", tooLarge.GetProperty("type").GetString());
        Assert.Contains("2048", tooLarge.GetProperty("message").GetString());
        await server.AssertAllBlocksFreeAsync();
    }
}
