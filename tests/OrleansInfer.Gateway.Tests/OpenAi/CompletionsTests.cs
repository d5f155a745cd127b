using System.Text.Json;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>POST /v1/completions with raw JSON (the OpenAI .NET SDK has no public completions client).</summary>
public sealed class CompletionsTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    private GatewayServer Server => fixture.Server;

    [Fact]
    public async Task GreedyCompletionEqualsTheReference()
    {
        using var http = OpenAiKit.Http(Server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(Server);
        var (response, body) = await OpenAiKit.PostAsync(http, "/v1/completions",
            new { model = "stories260K", prompt = c.Prompt, temperature = 0, max_tokens = c.GeneratedTokenIds.Length, user = "someone", unknown_field = 3 });
        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal("stories260K", body.GetProperty("model").GetString());
        Assert.True(body.GetProperty("created").GetInt64() > 1_600_000_000);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        var usage = body.GetProperty("usage");
        Assert.Equal(c.PromptTokenIds.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(c.GeneratedTokenIds.Length, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(c.PromptTokenIds.Length + c.GeneratedTokenIds.Length, usage.GetProperty("total_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32() >= 0);
        await Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task StreamedGreedyCompletionEqualsTheReferenceAndEndsWithUsage()
    {
        using var http = OpenAiKit.Http(Server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(Server);
        var events = await OpenAiKit.StreamAsync(http, "/v1/completions",
            new { prompt = c.PromptTokenIds, temperature = 0, max_tokens = c.GeneratedTokenIds.Length, stream = true, stream_options = new { include_usage = true } });
        Assert.True(events.Done);
        Assert.Empty(events.Errors);
        Assert.True(events.Data.Count > 2, "expected the text in several chunks");
        var usageChunk = events.Data[^1];
        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        Assert.Equal(c.GeneratedTokenIds.Length, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected, OpenAiKit.CompletionTexts(events.Data)[0]);
        var finishes = events.Data.SelectMany(d => d.GetProperty("choices").EnumerateArray()).Select(ch => ch.GetProperty("finish_reason"))
            .Where(f => f.ValueKind != JsonValueKind.Null).Select(f => f.GetString()).ToList();
        Assert.Equal(["length"], finishes);
        Assert.All(events.Data, d => Assert.Equal("text_completion", d.GetProperty("object").GetString()));
        Assert.Single(events.Data.Select(d => d.GetProperty("id").GetString()).Distinct());
    }

    [Fact]
    public async Task EchoPromptsListAndTwoChoicesArePromptMajor()
    {
        using var http = OpenAiKit.Http(Server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(Server, 16);
        var (response, body) = await OpenAiKit.PostAsync(http, "/v1/completions",
            new { prompt = new[] { c.Prompt, c.Prompt }, n = 2, temperature = 0, max_tokens = 16, echo = true });
        Assert.Equal(200, (int)response.StatusCode);
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3], choices.Select(ch => ch.GetProperty("index").GetInt32()));
        Assert.All(choices, ch => Assert.Equal(c.Prompt + expected, ch.GetProperty("text").GetString()));
        Assert.Equal(2 * c.PromptTokenIds.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4 * 16, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var events = await OpenAiKit.StreamAsync(http, "/v1/completions",
            new { prompt = new object[] { c.Prompt, c.PromptTokenIds }, n = 2, temperature = 0, max_tokens = 16, echo = true, stream = true, stream_options = new { include_usage = true } });
        var texts = OpenAiKit.CompletionTexts(events.Data);
        Assert.Equal([0, 1, 2, 3], texts.Keys.Order());
        Assert.All(texts.Values, t => Assert.Equal(c.Prompt + expected, t));
        Assert.Equal(4 * 16, events.Data[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(events.Data.SkipLast(1), d => Assert.Equal(JsonValueKind.Null, d.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task SampledChoicesWithTheSameSeedRepeat()
    {
        using var http = OpenAiKit.Http(Server);
        var request = new { prompt = "Once upon a time", n = 2, temperature = 1.0, top_p = 0.95, top_k = 40, seed = 1234, max_tokens = 24 };
        var (_, first) = await OpenAiKit.PostAsync(http, "/v1/completions", request);
        var (_, second) = await OpenAiKit.PostAsync(http, "/v1/completions", request);
        var a = first.GetProperty("choices").EnumerateArray().Select(ch => ch.GetProperty("text").GetString()).ToList();
        var b = second.GetProperty("choices").EnumerateArray().Select(ch => ch.GetProperty("text").GetString()).ToList();
        Assert.Equal(2, a.Count);
        Assert.Equal(a, b);
        var events = await OpenAiKit.StreamAsync(http, "/v1/completions", new { prompt = "Once upon a time", n = 2, temperature = 1.0, top_p = 0.95, top_k = 40, seed = 1234, max_tokens = 24, stream = true });
        var streamed = OpenAiKit.CompletionTexts(events.Data);
        Assert.Equal(a, [streamed[0], streamed[1]]);
    }

    [Fact]
    public async Task StopStringEndsTheTextBeforeIt()
    {
        using var http = OpenAiKit.Http(Server);
        var (c, expected) = await OpenAiKit.ReferenceAsync(Server);
        var stop = " Lily";
        Assert.Contains(stop, expected);
        var (_, body) = await OpenAiKit.PostAsync(http, "/v1/completions", new { prompt = c.Prompt, temperature = 0, max_tokens = 64, stop });
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(expected[..expected.IndexOf(stop, StringComparison.Ordinal)], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var events = await OpenAiKit.StreamAsync(http, "/v1/completions", new { prompt = c.Prompt, temperature = 0, max_tokens = 64, stop = new[] { stop }, stream = true });
        Assert.Equal(expected[..expected.IndexOf(stop, StringComparison.Ordinal)], OpenAiKit.CompletionTexts(events.Data)[0]);
    }

    [Fact]
    public async Task LogprobsHaveTheLegacyShape()
    {
        using var http = OpenAiKit.Http(Server);
        var (c, _) = await OpenAiKit.ReferenceAsync(Server);
        var (_, body) = await OpenAiKit.PostAsync(http, "/v1/completions", new { prompt = c.Prompt, temperature = 0, max_tokens = 8, logprobs = 3 });
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.Equal(8, tokens.Count);
        var values = logprobs.GetProperty("token_logprobs").EnumerateArray().Select(v => v.GetSingle()).ToList();
        Assert.All(values, v => Assert.True(v <= 0));
        var tops = logprobs.GetProperty("top_logprobs").EnumerateArray().ToList();
        Assert.Equal(8, tops.Count);
        for (var i = 0; i < 8; i++)
        {
            var top = tops[i].EnumerateObject().ToList();
            Assert.InRange(top.Count, 1, 3);
            // Greedy: the chosen token is the likeliest.
            Assert.Equal(tokens[i], top.MaxBy(p => p.Value.GetSingle()).Name);
        }
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList();
        Assert.Equal(8, offsets.Count);
        Assert.Equal(offsets.Order(), offsets);
    }
}
