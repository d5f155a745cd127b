using OrleansInfer.Backends.Cpu;
using OrleansInfer.Cli.Chat;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`chat` scripted through stdin, and a reply stopped the way Ctrl+C stops it.</summary>
public sealed class ChatCommandTests : IDisposable
{
    // No bos_token in the template: the chat prompt then tokenizes exactly as `generate --prompt` does (BOS added once).
    private const string Template = "{% for m in messages %}{% if m.role == 'user' %}Q: {{ m.content }}\n{% else %}A: {{ m.content }}\n{% endif %}{% endfor %}A:";

    private readonly string _template = TestChatTemplates.WriteFile(Template);

    public void Dispose() => File.Delete(_template);

    private string[] Chat(params string[] more) =>
        ["chat", "--model", SharedData.Stories260KGguf, "--chat-template", _template, "--temperature", "0", "--max-tokens", "16", "--threads", "2", .. more];

    private static string Generate(string prompt)
    {
        var g = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", prompt, "--temperature", "0", "--max-tokens", "16", "--threads", "2", "--json");
        Assert.True(g.ExitCode == 0, g.Error);
        return Assert.Single(g.JsonLines).GetProperty("text").GetString()!;
    }

    [Fact]
    public void ScriptedChatPrintsEachReplyOnItsLineAndKeepsTheHistory()
    {
        var r = CliRunner.RunWithInput("Once upon a time\n\nWhat happened next?\n/exit\nnever read\n", Chat());
        Assert.True(r.ExitCode == 0, r.Error);

        var first = Generate("Q: Once upon a time\nA:");
        var second = Generate($"Q: Once upon a time\nA: {first}\nQ: What happened next?\nA:");
        Assert.Equal($"{first}\n{second}\n", r.Output);
    }

    [Fact]
    public void ResetForgetsTheConversation()
    {
        var r = CliRunner.RunWithInput("Once upon a time\n/reset\nOnce upon a time\n", Chat());
        Assert.True(r.ExitCode == 0, r.Error);
        var first = Generate("Q: Once upon a time\nA:");
        Assert.Equal($"{first}\n{first}\n", r.Output);
    }

    [Fact]
    public void WithoutATemplateChatIsAUsageError()
    {
        var r = CliRunner.RunWithInput("hi\n", "chat", "--model", SharedData.Stories260KGguf, "--threads", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.EndsWith("orleans-infer: stories260K.gguf has no chat template (tokenizer.chat_template); give one with --chat-template FILE\n", r.Error);
        Assert.Equal("", r.Output);
    }

    [Fact]
    public void SeveralOutputsPerReplyAreRefused()
    {
        var r = CliRunner.RunWithInput("hi\n", Chat("--n", "2"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("chat streams one reply", r.Error);
    }

    [Fact]
    public async Task AStoppedReplyKeepsWhatWasSaidAndTheSessionGoesOn()
    {
        using var file = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new CpuModelRunner(file, new CpuRunnerOptions { Threads = 2 });
        await using var engine = new LlmEngine(runner, Tokenizer.Create(file.Vocabulary));
        var template = ChatTemplate.For(file.Vocabulary, "stories260K", Template);
        var session = new ChatSession(engine, template, new SamplingParams { Temperature = 0, MaxTokens = 200, IgnoreEos = true }, system: null);

        using var stop = new CancellationTokenSource();
        var output = new FirstWriteCancels(stop);
        var partial = await session.ReplyAsync("Once upon a time", output, stop.Token);
        Assert.Equal(output.ToString(), partial);
        Assert.NotEqual("", partial);
        Assert.Equal(["user", "assistant"], session.History.Select(m => m.Role));
        Assert.Equal(partial, session.History[1].Content);
        Assert.True(await engine.WhenIdleAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token), "expected the stopped request to end within 30 s");
        Assert.Equal(engine.KvCache.TotalBlocks, engine.KvCache.FreeBlocks);

        var next = await session.ReplyAsync("And then?", TextWriter.Null, CancellationToken.None);
        Assert.NotEqual("", next);
        Assert.Equal(["user", "assistant", "user", "assistant"], session.History.Select(m => m.Role));
        Assert.Equal(next, session.History[3].Content);
    }

    /// <summary>Stops the reply as soon as its first text is written, as Ctrl+C during a reply does.</summary>
    private sealed class FirstWriteCancels(CancellationTokenSource stop) : StringWriter
    {
        public override Task WriteAsync(string? value)
        {
            stop.Cancel();
            return base.WriteAsync(value);
        }
    }
}
