using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`template render` over every case of the shared real templates, byte for byte, and its errors.</summary>
public sealed class TemplateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-template-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Cases() => new(SharedChatTemplates.Ids);

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersEachSharedCaseExactly(string id)
    {
        var c = SharedChatTemplates.Get(id);
        var r = CliRunner.Run("template", "render", "--template", c.TemplatePath, "--context", c.Context.ToJsonString());
        if (c.PythonTypeError is { } typeError)
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Equal("", r.Output);
            Assert.EndsWith($"template error at line 47, column 24: {typeError}{Environment.NewLine}", r.Error);
        }
        else if (c.Error is null)
        {
            Assert.True(r.ExitCode == 0, $"{id}: expected exit 0, got {r.ExitCode}: {r.Error}");
            Assert.Equal(c.PythonOutput, r.Output);
            Assert.Equal("", r.Error);
        }
        else
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Equal("", r.Output);
            Assert.Equal(c.Error + Environment.NewLine, r.Error);
        }
    }

    [Fact]
    public void TheRealExecutableWritesUtf8WithNothingAddedAndTakesAContextFile()
    {
        var c = SharedChatTemplates.All.First(x => x.Name == "unicode-whitespace" && x.Output is not null);
        var context = Path.Combine(_folder, "context.json");
        File.WriteAllText(context, c.Context.ToJsonString());
        var r = CliRunner.RunProcess("template", "render", "--template", c.TemplatePath, "--context-file", context);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(c.Output, r.Output);

        var raised = SharedChatTemplates.All.First(x => x.Error is not null);
        File.WriteAllText(context, raised.Context.ToJsonString());
        var e = CliRunner.RunProcess("template", "render", "--template", raised.TemplatePath, "--context-file", context);
        Assert.Equal(2, e.ExitCode);
        Assert.Equal(raised.Error + "\n", e.Error);
        Assert.Equal("", e.Output);
    }

    [Fact]
    public void AModelsOwnTemplateRendersWithItsBosAndEos()
    {
        var model = Path.Combine(_folder, "chat.gguf");
        var template = Path.Combine(_folder, "t.jinja");
        File.WriteAllText(template, "{{ bos_token }}[{{ messages[0].content }}]{{ eos_token }}");
        var c = CliRunner.Run("model", "convert", SharedData.Stories260KGguf, model, "--chat-template", template);
        Assert.True(c.ExitCode == 0, c.Error);

        var r = CliRunner.Run("template", "render", "--model", model, "--context", """{"messages": [{"role": "user", "content": "hi"}]}""");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal("<s>[hi]</s>", r.Output);

        var given = CliRunner.Run("template", "render", "--model", model, "--context", """{"messages": [{"role": "user", "content": "hi"}], "bos_token": "B"}""");
        Assert.Equal("B[hi]</s>", given.Output);
    }

    [Theory]
    [InlineData("{% for m in messages %}\n{{ m.content }\n", "--context", "{}", "line 2")]
    [InlineData("{{ messages | no_such_filter }}", "--context", "{}", "no_such_filter")]
    [InlineData("{{ 1 + 'a' }}", "--context", "{}", "template error at line 1")]
    [InlineData("ok", "--context", "[1, 2]", "the context must be a JSON object")]
    [InlineData("ok", "--context", "{", "the context is not valid JSON")]
    public void BadTemplatesAndContextsAreOneLineUsageErrors(string source, string option, string value, string expected)
    {
        var template = Path.Combine(_folder, "bad.jinja");
        File.WriteAllText(template, source);
        var r = CliRunner.Run("template", "render", "--template", template, option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Output);
        Assert.Contains(expected, r.Error);
        Assert.Single(r.Error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AModelWithoutATemplateSaysSo()
    {
        var r = CliRunner.Run("template", "render", "--model", SharedData.Stories260KGguf, "--context", "{}");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("orleans-infer: stories260K.gguf has no chat template (tokenizer.chat_template); give one with --chat-template FILE\n", r.Error);
    }

    [Fact]
    public void SynthStoresTheTemplateAndRejectsOneThatDoesNotParse()
    {
        var good = Path.Combine(_folder, "good.jinja");
        File.WriteAllText(good, "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
        var model = Path.Combine(_folder, "synth.gguf");
        var s = CliRunner.Run("model", "synth", "--preset", "stories260k", "--type", "f32", "--out", model, "--tokenizer", SharedData.Tok512, "--chat-template", good);
        Assert.True(s.ExitCode == 0, s.Error);
        var rendered = CliRunner.Run("template", "render", "--model", model, "--context", """{"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]}""");
        Assert.True(rendered.ExitCode == 0, rendered.Error);
        Assert.Equal("<s>xy", rendered.Output);

        var bad = Path.Combine(_folder, "bad.jinja");
        File.WriteAllText(bad, "{% if x %}never closed");
        var b = CliRunner.Run("model", "synth", "--preset", "stories260k", "--type", "f32", "--out", Path.Combine(_folder, "bad.gguf"), "--tokenizer", SharedData.Tok512, "--chat-template", bad);
        Assert.Equal(2, b.ExitCode);
        Assert.StartsWith($"orleans-infer: {bad}: template syntax error at line 1, column", b.Error);
        Assert.False(File.Exists(Path.Combine(_folder, "bad.gguf")));
    }

    [Fact]
    public void TheRenderBenchmarkReportsJson()
    {
        var c = SharedChatTemplates.All.First(x => x.Template.StartsWith("meta-llama", StringComparison.Ordinal));
        var r = CliRunner.Run("bench", "template", "--template", c.TemplatePath, "--messages", "20", "--warmup-seconds", "0", "--rounds", "3", "--renders-per-round", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(20, j.GetProperty("messages").GetInt32());
        Assert.Equal(3047, j.GetProperty("output_chars").GetInt32());
        Assert.True(j.GetProperty("median_us").GetDouble() > 0);
    }
}
