using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>Every case of the shared chat-templates folder: the exact render, or the message raise_exception gives.</summary>
public sealed class SharedChatTemplateTests
{
    /// <summary>
    /// Cases whose expected output came from @huggingface/jinja and is not what Python's Jinja2 renders: there the
    /// engine must do what Jinja2 does (checked against jinja2 3.1.6), which is the error given here.
    /// </summary>
    private static readonly Dictionary<string, string> NotJinja2 = new(StringComparer.Ordinal)
    {
        // The template concatenates a str and the arguments dict; JavaScript prints "[object Map]", Python raises.
        ["meetkai-functionary-medium-v3.1.expected.json/tool-call-round-trip"] = "can only concatenate str (not \"dict\") to str",
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(Path.Combine(SharedData.Folder, "chat-templates"), "*.expected.json").Order(StringComparer.Ordinal))
        {
            var doc = JsonNode.Parse(File.ReadAllText(file))!;
            foreach (var c in doc["cases"]!.AsArray()) data.Add(Path.GetFileName(file), (string)c!["name"]!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersAsJinja2(string file, string caseName)
    {
        var folder = Path.Combine(SharedData.Folder, "chat-templates");
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, file)))!;
        var c = doc["cases"]!.AsArray().Single(x => (string)x!["name"]! == caseName)!;
        var template = JinjaTemplate.Parse(File.ReadAllText(Path.Combine(folder, (string)doc["template"]!)));
        var context = c["context"]!.AsObject();
        if (NotJinja2.TryGetValue(file + "/" + caseName, out var pythonError))
        {
            var e = Assert.Throws<TemplateRuntimeException>(() => template.Render(context));
            Assert.Equal(pythonError, e.Message);
        }
        else if (c["error"] is { } error)
        {
            var e = Assert.Throws<TemplateRaisedException>(() => template.Render(context));
            Assert.Equal((string)error!, e.Message);
        }
        else
        {
            Assert.Equal((string)c["output"]!, template.Render(context));
        }
    }

    [Fact]
    public void FiftyCasesAreShared() => Assert.Equal(50, Cases().Count);
}
