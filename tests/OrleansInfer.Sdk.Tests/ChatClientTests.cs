using System.Text.Json;
using Microsoft.Extensions.AI;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Sdk.Tests;

/// <summary>AsChatClient() used only through Microsoft.Extensions.AI's IChatClient interface.</summary>
public sealed class ChatClientTests(ChatFixture templates) : IClassFixture<ChatFixture>
{
    private static readonly ChatOptions Greedy = new() { Temperature = 0, MaxOutputTokens = 20 };

    [Fact]
    public async Task AResponseCarriesTheTextFinishReasonUsageAndModel()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        var expected = await engine.CompleteChatAsync([Model.Chat.ChatMessage.User("Once upon a time")],
            new ChatRequestOptions { Sampling = new() { Temperature = 0 }, MaxTokens = 20 });

        IChatClient client = engine.AsChatClient();
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], Greedy);

        Assert.Equal(expected.Output.Text, response.Text);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.Equal(expected.Output.FinishReason == Engine.Generation.FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("stories260K", response.ModelId);
        Assert.Equal(expected.Usage.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(expected.Usage.CompletionTokens, response.Usage.OutputTokenCount);
        Assert.Equal(expected.Usage.TotalTokens, response.Usage.TotalTokenCount);
        Assert.Equal("stories260K", client.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task StreamingGivesTheSameTextAndEndsWithFinishReasonAndUsage()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        IChatClient client = engine.AsChatClient();
        List<ChatMessage> messages = [new(ChatRole.System, "A short story."), new(ChatRole.User, "Once upon a time")];
        var whole = await client.GetResponseAsync(messages, Greedy);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(messages, Greedy)) updates.Add(u);

        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        Assert.All(updates.SkipLast(1), u => Assert.Null(u.FinishReason));
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(whole.Usage!.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);

        var merged = updates.ToChatResponse();
        Assert.Equal(whole.Text, merged.Text);
    }

    [Fact]
    public async Task OptionsReachTheSampler()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        IChatClient client = engine.AsChatClient();
        List<ChatMessage> messages = [new(ChatRole.User, "Once upon a time")];

        var seeded = new ChatOptions { Temperature = 1.0f, TopP = 0.9f, TopK = 20, Seed = 42, MaxOutputTokens = 12, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f };
        var a = await client.GetResponseAsync(messages, seeded);
        var b = await client.GetResponseAsync(messages, seeded.Clone());
        Assert.Equal(a.Text, b.Text);
        Assert.True(a.Usage!.OutputTokenCount <= 12, $"expected at most 12 output tokens, got {a.Usage.OutputTokenCount}");

        var greedy = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 30 });
        var word = greedy.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        var stopped = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 30, StopSequences = [word] });
        Assert.Equal(greedy.Text[..greedy.Text.IndexOf(word, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(messages, new ChatOptions { ModelId = "another-model" }));
    }

    [Fact]
    public async Task ToolsCallsAndResultsReachTheTemplateAsHuggingFaceShapesThem()
    {
        await using var engine = await ChatFixture.Load(templates.EchoContext);
        IChatClient client = engine.AsChatClient();
        var weather = AIFunctionFactory.Create((string city) => $"21 degrees in {city}", "get_weather", "Get the weather for a city");
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "What is the weather in Paris?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call-1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call-1", "21 degrees")]),
        ];

        var e = await Assert.ThrowsAsync<TemplateRaisedException>(() => client.GetResponseAsync(messages, new ChatOptions { Tools = [weather], Instructions = "Be brief." }));
        using var seen = JsonDocument.Parse(e.Message);
        var m = seen.RootElement.GetProperty("messages");
        Assert.Equal(4, m.GetArrayLength());
        Assert.Equal("""{"role": "system", "content": "Be brief."}""", m[0].GetRawText());
        Assert.Equal("""{"role": "user", "content": "What is the weather in Paris?"}""", m[1].GetRawText());
        Assert.Equal("""{"role": "assistant", "content": null, "tool_calls": [{"id": "call-1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}""", m[2].GetRawText());
        Assert.Equal("""{"role": "tool", "content": "21 degrees", "tool_call_id": "call-1"}""", m[3].GetRawText());
        var tool = Assert.Single(seen.RootElement.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Get the weather for a city", tool.GetProperty("function").GetProperty("description").GetString());
        Assert.Equal("string", tool.GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.True(seen.RootElement.GetProperty("add_generation_prompt").GetBoolean());
    }

    [Fact]
    public async Task CancellingAStreamAbortsTheRequestAndFreesItsBlocks()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        IChatClient client = engine.AsChatClient();
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")],
                               new ChatOptions { Temperature = 0, MaxOutputTokens = 200 }, cts.Token))
            {
                received++;
                cts.Cancel();
            }
        });
        Assert.Equal(1, received);
        await ChatFixture.AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task ContentATextModelCannotReadIsRefused()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        IChatClient client = engine.AsChatClient();
        var image = new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([image]));
        Assert.Equal("DataContent content is not supported: this model reads text only", e.Message);
    }
}
