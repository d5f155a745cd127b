#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>POST /v1/chat/completions through the official OpenAI .NET client and Microsoft.Extensions.AI's IChatClient.</summary>
public sealed class ChatTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    private const string Question = "Where did Lily go?";
    private const int MaxTokens = 24;

    private GatewayServer Server => fixture.Server;

    /// <summary>What greedy generation after the rendered Q/A prompt gives: /tokenize the messages, then /v1/completions on the ids.</summary>
    private async Task<(string Text, int PromptTokens)> ExpectedAsync()
    {
        using var http = OpenAiKit.Http(Server);
        var (_, tokenized) = await OpenAiKit.PostAsync(http, "/tokenize", new { messages = new[] { new { role = "user", content = Question } } });
        var ids = tokenized.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(ids.Length, tokenized.GetProperty("count").GetInt32());
        var (_, body) = await OpenAiKit.PostAsync(http, "/v1/completions", new { prompt = ids, temperature = 0, max_tokens = MaxTokens });
        return (body.GetProperty("choices")[0].GetProperty("text").GetString()!, ids.Length);
    }

    [Fact]
    public async Task ChatCompletionIsGreedyGenerationAfterTheRenderedPrompt()
    {
        var (expected, promptTokens) = await ExpectedAsync();
        var chat = OpenAiKit.Client(Server).GetChatClient("stories260K");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(Question)], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = MaxTokens });
        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal("stories260K", completion.Model);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(promptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(MaxTokens, completion.Usage.OutputTokenCount);
        Assert.Equal(promptTokens + MaxTokens, completion.Usage.TotalTokenCount);
        await Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task StreamedChatCompletionHasTheSameTextAndUsage()
    {
        var (expected, promptTokens) = await ExpectedAsync();
        var chat = OpenAiKit.Client(Server).GetChatClient("stories260K");
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new SystemChatMessage("A story."), new UserChatMessage(Question)], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = MaxTokens }))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }
        Assert.True(updates > 2);
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(MaxTokens, usage.OutputTokenCount);
        Assert.True(usage.InputTokenCount > promptTokens, "the system line adds prompt tokens");
        Assert.False(string.IsNullOrEmpty(text.ToString()));

        // Without the system line the stream matches the non-streamed reference exactly.
        text.Clear();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(Question)], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = MaxTokens }))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }
        Assert.Equal(expected, text.ToString());
    }

    [Fact]
    public async Task SeedLogprobsAndStopThroughTheClient()
    {
        var chat = OpenAiKit.Client(Server).GetChatClient("stories260K");
        var options = new ChatCompletionOptions { Temperature = 1, Seed = 42, MaxOutputTokenCount = MaxTokens, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        ChatCompletion first = await chat.CompleteChatAsync([new UserChatMessage(Question)], options);
        ChatCompletion second = await chat.CompleteChatAsync([new UserChatMessage(Question)], options);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        Assert.Equal(first.Usage.OutputTokenCount, first.ContentTokenLogProbabilities.Count);
        Assert.All(first.ContentTokenLogProbabilities, l =>
        {
            Assert.True(l.LogProbability <= 0);
            Assert.Equal(2, l.TopLogProbabilities.Count);
            Assert.Equal(Encoding.UTF8.GetBytes(l.Token), l.Utf8Bytes?.ToArray());
        });

        var (expected, _) = await ExpectedAsync();
        var word = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        ChatCompletion stopped = await chat.CompleteChatAsync([new UserChatMessage(Question)], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = MaxTokens, StopSequences = { word } });
        Assert.Equal(expected[..expected.IndexOf(word, StringComparison.Ordinal)], stopped.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
    }

    [Fact]
    public async Task TwoChoicesAndContentPartsInRawJson()
    {
        using var http = OpenAiKit.Http(Server);
        var (expected, _) = await ExpectedAsync();
        var (response, body) = await OpenAiKit.PostAsync(http, "/v1/chat/completions", new
        {
            messages = new object[] { new { role = "user", content = new[] { new { type = "text", text = Question } } } },
            n = 2, temperature = 0, max_completion_tokens = MaxTokens,
        });
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(choices, c => Assert.Equal(expected, c.GetProperty("message").GetProperty("content").GetString()));

        var events = await OpenAiKit.StreamAsync(http, "/v1/chat/completions", new { messages = new[] { new { role = "user", content = Question } }, n = 2, temperature = 0, max_tokens = MaxTokens, stream = true });
        // Each choice opens with the assistant role.
        var roles = events.Data.Take(2).Select(d => d.GetProperty("choices")[0]).ToList();
        Assert.Equal([0, 1], roles.Select(r => r.GetProperty("index").GetInt32()));
        Assert.All(roles, r => Assert.Equal("assistant", r.GetProperty("delta").GetProperty("role").GetString()));
        foreach (var i in new[] { 0, 1 })
        {
            var text = string.Concat(events.Data.SelectMany(d => d.GetProperty("choices").EnumerateArray())
                .Where(c => c.GetProperty("index").GetInt32() == i && c.GetProperty("delta").TryGetProperty("content", out _))
                .Select(c => c.GetProperty("delta").GetProperty("content").GetString()));
            Assert.Equal(expected, text);
        }
        Assert.True(events.Done);
    }

    [Fact]
    public async Task MicrosoftExtensionsAiChatClientWorks()
    {
        var (expected, _) = await ExpectedAsync();
        IChatClient client = OpenAiKit.Client(Server).GetChatClient("stories260K").AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = MaxTokens };
        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, Question)], options);
        Assert.Equal(expected, response.Text);
        Assert.Equal(MaxTokens, response.Usage?.OutputTokenCount);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);

        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync([new AiChatMessage(ChatRole.User, Question)], options)) streamed.Append(update.Text);
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task TemplateRefusalIsA400WithItsMessage()
    {
        using var http = OpenAiKit.Http(Server);
        var message = await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions",
            new { messages = new object[] { new { role = "tool", content = "x", tool_call_id = "c1" } } }, 400, "messages");
        Assert.Equal("unexpected role tool", message);
        var tools = new object[] { new { type = "function", function = new { name = "f", parameters = new { type = "object" } } } };
        var (ok, _) = await OpenAiKit.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, tools, tool_choice = "auto", max_tokens = 4, response_format = new { type = "text" } });
        Assert.Equal(200, (int)ok.StatusCode);
        Assert.Contains("tool_choice", await OpenAiKit.AssertErrorAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, tools, tool_choice = "required" }, 400, "tool_choice"));
    }
}
