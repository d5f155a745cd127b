using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>Streams that end early (client gone), keep-alives before the first token, and many streams at once against a small queue.</summary>
public sealed class StreamingLifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DisconnectingMidStreamFreesTheBlocks()
    {
        await using var server = await OpenAiKit.StartAsync();
        // stories260K's context is tiny (128 tokens), so outputs are short: several wide streams at once make sure some
        // are still generating when their clients go. The check that matters is that no block leaks either way.
        var room = (await server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength - 24;
        foreach (var path in new[] { "/v1/completions", "/v1/chat/completions" })
        {
            object body = path == "/v1/completions"
                ? new { prompt = "Once upon a time", max_tokens = room, ignore_eos = true, n = 8, temperature = 1, stream = true }
                : new { messages = new[] { new { role = "user", content = "Tell a story" } }, max_tokens = room, ignore_eos = true, n = 8, temperature = 1, stream = true };
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                using var http = OpenAiKit.Http(server);
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                var events = 0;
                while (events < 2 && await reader.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("data: ", StringComparison.Ordinal)) events++;
                }
                Assert.Equal(2, events);
                // Leaving the using blocks closes the connection mid-stream.
            }));
            await server.AssertAllBlocksFreeAsync();
        }

        // Non-streaming: a caller that gives up (here almost at once) frees the blocks too.
        using (var http = OpenAiKit.Http(server))
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
            try
            {
                await http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = room, ignore_eos = true, n = 16, temperature = 1 }, giveUp.Token);
            }
            catch (OperationCanceledException)
            {
                // Expected most of the time; a fast machine may answer first.
            }
        }
        await server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task CommentsKeepAWaitingStreamAlive()
    {
        // An interval below a millisecond makes every wait for the first token send comments: deterministic here.
        await using var server = await OpenAiKit.StartAsync(o => o.KeepAliveInterval = TimeSpan.FromTicks(1));
        using var http = OpenAiKit.Http(server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(server, 16);
        var events = await OpenAiKit.StreamAsync(http, "/v1/completions", new { prompt = c.Prompt, temperature = 0, max_tokens = 16, stream = true });
        Assert.True(events.Comments > 0, "expected ': keep-alive' comments before the first token");
        Assert.Equal(expected, OpenAiKit.CompletionTexts(events.Data)[0]);
        Assert.True(events.Done);
    }

    [Fact]
    public async Task ManyConcurrentStreamsAreServedOrRefusedWith503()
    {
        await using var server = await OpenAiKit.StartAsync(o => o.MaxQueuedRequests = 16);
        using var http = OpenAiKit.Http(server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(server, 16);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 300).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = JsonContent.Create(new { prompt = c.Prompt, temperature = 0, max_tokens = 16, stream = true }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a 503 needs Retry-After");
                var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
                Assert.Equal("service_unavailable", error.GetProperty("type").GetString());
                return (Served: false, Text: (string?)null);
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var events = await OpenAiKit.ReadSseAsync(response);
            Assert.Empty(events.Errors);
            Assert.True(events.Done);
            return (Served: true, Text: OpenAiKit.CompletionTexts(events.Data)[0]);
        }));
        var served = outcomes.Where(o => o.Served).ToList();
        output.WriteLine($"{served.Count} of {outcomes.Length} streams served, the others refused with 503");
        Assert.NotEmpty(served);
        Assert.All(served, o => Assert.Equal(expected, o.Text));
        await server.AssertAllBlocksFreeAsync();
    }
}
