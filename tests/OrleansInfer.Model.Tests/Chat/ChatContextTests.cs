using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Chat;

/// <summary>The variable set a chat render builds, BOS handling of rendered prompts, and the template's place in GGUF.</summary>
public sealed class ChatContextTests
{
    [Fact]
    public void MessagesToolCallsAndToolsTakeHuggingFacesShape()
    {
        var messages = new[]
        {
            ChatMessage.User("Weather?"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("c1", "get_weather", """{"city": "Paris", "days": [1, 2]}""")] },
            ChatMessage.Tool("c1", "21", name: "get_weather"),
        };
        var options = new ChatRenderOptions
        {
            Tools = [new ChatTool("get_weather", "Weather of a city", """{"type": "object"}""")],
            AddGenerationPrompt = false,
            Variables = new JsonObject { ["date_string"] = "26 Jul 2024" },
        };
        var context = ChatContext.Build(messages, options, "<s>", "</s>");
        Assert.Equal(
            """{"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris","days":[1,2]}}}]},{"role":"tool","content":"21","tool_call_id":"c1","name":"get_weather"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object"}}}],"add_generation_prompt":false,"bos_token":"<s>","eos_token":"</s>","date_string":"26 Jul 2024"}""",
            context.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    [Fact]
    public void NoToolsLeavesToolsUndefined()
    {
        var context = ChatContext.Build([ChatMessage.User("hi")], new ChatRenderOptions { Tools = [] }, "", "");
        Assert.False(context.ContainsKey("tools"));
    }

    [Theory]
    [InlineData("messages")]
    [InlineData("bos_token")]
    [InlineData("add_generation_prompt")]
    public void ExtraVariablesMayNotReplaceTheRequestsOwn(string name)
    {
        var options = new ChatRenderOptions { Variables = new JsonObject { [name] = 1 } };
        var e = Assert.Throws<ArgumentException>(() => ChatContext.Build([ChatMessage.User("hi")], options, "", ""));
        Assert.StartsWith($"template variable '{name}' is set by the chat request itself", e.Message);
    }

    [Theory]
    [InlineData("not json", "tool call c1: arguments are not valid JSON")]
    [InlineData("[1, 2]", "tool call c1: arguments must be a JSON object")]
    public void ToolCallArgumentsMustBeAJsonObject(string arguments, string expected)
    {
        var message = new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("c1", "f", arguments)] };
        var e = Assert.Throws<ArgumentException>(() => ChatContext.Build([message], ChatRenderOptions.Default, "", ""));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void BosIsAddedOnceWhetherOrNotTheTemplateWritesIt()
    {
        var vocabulary = ModelFile.LoadVocabulary(SharedData.Stories260KGguf, null);
        var tokenizer = Tokenizer.Create(vocabulary);
        var withBos = ChatTemplate.EncodeRendered(tokenizer, "<s>Q: hello");
        var withoutBos = ChatTemplate.EncodeRendered(tokenizer, "Q: hello");
        Assert.Equal(tokenizer.Encode("Q: hello", addSpecial: true), withoutBos);
        Assert.Equal(tokenizer.BosId, withBos[0]);
        Assert.NotEqual(tokenizer.BosId, withBos[1]);
        Assert.Equal(tokenizer.Encode("<s>Q: hello", addSpecial: false, parseSpecial: true), withBos);

        var noBos = tokenizer.Vocabulary with { AddBos = false };
        Assert.Equal(Tokenizer.Create(noBos).Encode("Q: hello", addSpecial: false), ChatTemplate.EncodeRendered(Tokenizer.Create(noBos), "Q: hello"));
    }

    [Fact]
    public void TheTemplateTravelsInGgufAsTokenizerChatTemplate()
    {
        var vocabulary = ModelFile.LoadVocabulary(SharedData.Stories260KGguf, null) with { ChatTemplate = "{{ bos_token }}é{{ messages[0].content }}" };
        var path = Path.Combine(Path.GetTempPath(), $"orleans-infer-vocab-{Guid.NewGuid():N}.gguf");
        try
        {
            var writer = new GgufWriter();
            vocabulary.WriteTo(writer);
            writer.WriteTo(path);
            using var file = GgufFile.Open(path);
            Assert.Equal(vocabulary.ChatTemplate, file.Metadata.GetString("tokenizer.chat_template"));
            var read = Vocabulary.FromGguf(file.Metadata);
            Assert.Equal(vocabulary.ChatTemplate, read.ChatTemplate);

            var template = ChatTemplate.For(read, "vocab");
            Assert.Equal("<s>", template.BosToken);
            Assert.Equal("</s>", template.EosToken);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AVocabularyWithoutATemplateGivesTheTypedError()
    {
        var vocabulary = ModelFile.LoadVocabulary(SharedData.Stories260KGguf, null);
        Assert.Null(vocabulary.ChatTemplate);
        var e = Assert.Throws<ChatTemplateMissingException>(() => ChatTemplate.For(vocabulary, "stories260K"));
        Assert.Equal("stories260K", e.Model);
    }
}
