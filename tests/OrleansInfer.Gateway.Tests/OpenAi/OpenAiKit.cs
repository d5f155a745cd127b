using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>A gateway serving stories260K with the Q/A chat template, shared by the tests of a class.</summary>
public sealed class OpenAiServerFixture : IAsyncLifetime
{
    public GatewayServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await OpenAiKit.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Helpers of the OpenAI API tests: servers, clients, raw JSON calls, SSE reading, references.</summary>
public static class OpenAiKit
{
    public static Task<GatewayServer> StartAsync(Action<GatewayOptions>? configureGateway = null) =>
        GatewayServer.StartAsync(configureGateway, o => o.ChatTemplate = TestChatTemplates.WriteFile(TestChatTemplates.QuestionAnswer));

    public static HttpClient Http(GatewayServer server) => new() { BaseAddress = server.HttpAddress, Timeout = TimeSpan.FromMinutes(2) };

    public static OpenAIClient Client(GatewayServer server, string key = "key") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(server.HttpAddress, "/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

    /// <summary>The first reference case: its prompt, and the text of its first <paramref name="tokens"/> greedy tokens.</summary>
    public static async Task<(GreedyCase Case, string Completion)> ReferenceAsync(GatewayServer server, int tokens = 64, int index = 0)
    {
        var c = SharedData.Reference.Cases[index];
        if (tokens >= c.GeneratedTokenIds.Length) return (c, c.Text[c.Prompt.Length..]);
        var tokenizer = (await server.Cluster.GetModelAsync(null, CancellationToken.None)).Tokenizer;
        var full = tokenizer.Decode([.. c.PromptTokenIds, .. c.GeneratedTokenIds.Take(tokens)]);
        Assert.StartsWith(c.Prompt, full);
        return (c, full[c.Prompt.Length..]);
    }

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Asserts an OpenAI error body: its status, type and param, and returns its message.</summary>
    public static async Task<string> AssertErrorAsync(HttpClient http, string path, object body, int status, string? param)
    {
        var (response, json) = await PostAsync(http, path, body);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = json.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("code", out _));
        var message = error.GetProperty("message").GetString()!;
        Assert.DoesNotContain("   at ", message);
        return message;
    }

    /// <summary>The events of an SSE response: data payloads (up to and without [DONE]) and the number of comment lines.</summary>
    public sealed record SseEvents(List<JsonElement> Data, bool Done, int Comments, List<JsonElement> Errors);

    public static async Task<SseEvents> ReadSseAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        var data = new List<JsonElement>();
        var errors = new List<JsonElement>();
        var comments = 0;
        var done = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(':')) comments++;
            else if (line == "data: [DONE]") done = true;
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var json = JsonDocument.Parse(line[6..]).RootElement.Clone();
                (json.TryGetProperty("error", out _) ? errors : data).Add(json);
            }
        }
        return new SseEvents(data, done, comments, errors);
    }

    public static async Task<SseEvents> StreamAsync(HttpClient http, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        return await ReadSseAsync(response);
    }

    /// <summary>Each choice's text, concatenated over completions chunks.</summary>
    public static Dictionary<int, string> CompletionTexts(IEnumerable<JsonElement> chunks)
    {
        var texts = new Dictionary<int, string>();
        foreach (var chunk in chunks)
        {
            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                var i = choice.GetProperty("index").GetInt32();
                texts[i] = texts.GetValueOrDefault(i, "") + choice.GetProperty("text").GetString();
            }
        }
        return texts;
    }
}
