using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;
using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary>InferenceEngine.ChatAsync on stories260K with a small Q/A template: prompt tokens, BOS, history, errors.</summary>
public sealed class ChatTests(ChatFixture templates) : IClassFixture<ChatFixture>
{
    private static readonly ChatRequestOptions Greedy = new() { Sampling = new SamplingParams { Temperature = 0 }, MaxTokens = 24 };

    [Fact]
    public async Task AReplyIsWhatTheEngineGeneratesFromTheRenderedPromptWithOneBos()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        var messages = new[] { ChatMessage.User("Once upon a time") };
        var text = engine.ChatTemplate!.Render(messages);
        Assert.Equal("<s>Q: Once upon a time\nA:", text);

        // The template writes BOS itself: parsing it and adding another would give two.
        var doubled = engine.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
        Assert.Equal([engine.Tokenizer.BosId, engine.Tokenizer.BosId], doubled[..2]);
        var expectedPrompt = doubled[1..];

        var chat = await engine.CompleteChatAsync(messages, Greedy);
        var plain = await engine.Engine.GenerateAsync(new GenerationRequest(expectedPrompt, Greedy.Sampling with { MaxTokens = 24 }));
        Assert.Equal(expectedPrompt, chat.PromptTokenIds);
        Assert.Equal(plain.Output.TokenIds, chat.Output.TokenIds);
        Assert.Equal(plain.Output.Text, chat.Output.Text);

        var streamed = "";
        await foreach (var chunk in engine.ChatAsync(messages, Greedy)) streamed += chunk.Text;
        Assert.Equal(chat.Output.Text, streamed);
        await ChatFixture.AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task ATemplateWithoutBosGetsTheVocabularysBos()
    {
        var path = TestChatTemplates.WriteFile("{% for m in messages %}{{ m.content }}{% endfor %}");
        try
        {
            await using var engine = await ChatFixture.Load(path);
            var prompt = engine.ChatTemplate!.Encode(engine.Tokenizer, [ChatMessage.User("Once upon a time")]);
            Assert.Equal(engine.Tokenizer.Encode("Once upon a time", addSpecial: true), prompt.TokenIds);
            Assert.Equal(engine.Tokenizer.BosId, prompt.TokenIds[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task TheSecondTurnFindsTheFirstInThePrefixCache()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        List<ChatMessage> history = [ChatMessage.System("A story about a cat and a dog who become friends in a big green park."), ChatMessage.User("Once upon a time")];
        var first = await engine.CompleteChatAsync(history, Greedy);
        history.Add(ChatMessage.Assistant(first.Output.Text));
        history.Add(ChatMessage.User("What happened next?"));
        var second = await engine.CompleteChatAsync(history, Greedy);

        var common = first.PromptTokenIds.Zip(second.PromptTokenIds).TakeWhile(p => p.First == p.Second).Count();
        var blockSize = engine.KvCache.BlockSize;
        Assert.True(common >= blockSize, $"the test needs a shared prefix of at least one block, got {common} tokens");
        Assert.InRange(second.Usage.CachedPromptTokens, common / blockSize * blockSize, second.PromptTokenIds.Length - 1);
        await ChatFixture.AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task LeftOpenTheReplyMayRunToTheEndOfTheContext()
    {
        await using var engine = await ChatFixture.Load(templates.QuestionAnswer);
        var messages = new[] { ChatMessage.User("Once upon a time") };
        var open = new ChatRequestOptions { Sampling = new SamplingParams { Temperature = 0, IgnoreEos = true } };
        var result = await engine.CompleteChatAsync(messages, open);
        Assert.Equal(FinishReason.Length, result.Output.FinishReason);
        Assert.Equal(engine.Config.ContextLength, result.PromptTokenIds.Length + result.Output.TokenIds.Length);
    }

    [Fact]
    public async Task AModelWithoutATemplateRefusesChatButStillGenerates()
    {
        await using var engine = await ChatFixture.Load(template: null);
        Assert.Null(engine.ChatTemplate);
        var e = await Assert.ThrowsAsync<ChatTemplateMissingException>(() => engine.CompleteChatAsync([ChatMessage.User("hi")], Greedy));
        Assert.Equal("stories260K has no chat template (tokenizer.chat_template); give one with --chat-template FILE", e.Message);
        var plain = await engine.CompleteAsync("Once upon a time", new SamplingParams { Temperature = 0, MaxTokens = 4 });
        Assert.Equal(4, plain.Output.TokenIds.Length);
    }

    [Fact]
    public async Task ATemplateThatRaisesFailsTheRequestOnlyAndLeavesNoBlocksHeld()
    {
        var path = TestChatTemplates.WriteFile("{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}{{ messages[0].content }}");
        try
        {
            await using var engine = await ChatFixture.Load(path);
            var before = await engine.CompleteChatAsync([ChatMessage.User("Once upon a time")], Greedy);
            var e = await Assert.ThrowsAsync<TemplateRaisedException>(() => engine.CompleteChatAsync([ChatMessage.Assistant("hi")], Greedy));
            Assert.Equal("Conversations must start with a user message", e.Message);
            var after = await engine.CompleteChatAsync([ChatMessage.User("Once upon a time")], Greedy);
            Assert.NotEmpty(before.Output.TokenIds);
            Assert.Equal(before.Output.TokenIds, after.Output.TokenIds);
            await ChatFixture.AssertAllBlocksFree(engine);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AGivenTemplateThatDoesNotParseFailsTheLoadWithItsPosition()
    {
        var path = TestChatTemplates.WriteFile("{% for m in messages %}\n{{ m.content }");
        try
        {
            var e = await Assert.ThrowsAnyAsync<TemplateSyntaxException>(() => ChatFixture.Load(path));
            Assert.Equal(2, e.Line);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
