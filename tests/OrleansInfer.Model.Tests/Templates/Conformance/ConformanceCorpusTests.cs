using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates.Conformance;

/// <summary>
/// Differential conformance against Python Jinja2 (transformers' chat-template environment): every case of
/// cases.json is its own test, named by the case, so a failure says which single behaviour differs.
/// Expected values are never edited by hand: they come from generate.py.
/// </summary>
public sealed class ConformanceCorpusTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in ConformanceCorpus.Cases.Keys.Order(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Renders_as_python_jinja2(string name)
    {
        var c = ConformanceCorpus.Cases[name];
        var options = new TemplateOptions { Clock = new FixedClock(ConformanceCorpus.Clock) };
        string? actual = null;
        var thrown = Record.Exception(() =>
        {
            var template = JinjaTemplate.Parse(c.Template, options);
            actual = template.Render((JsonObject)JsonNode.Parse(c.ContextJson)!);
        });

        if (c.Output is not null)
        {
            if (thrown is not null)
                Assert.Fail($"expected output {Show(c.Output)} but got {thrown.GetType().Name}: {thrown.Message}\ntemplate: {Show(c.Template)}\n{thrown}");
            Assert.Equal(c.Output, actual);
            return;
        }

        if (thrown is null)
            Assert.Fail($"expected a {c.ErrorKind} error ({c.ErrorMessage}) but rendered {Show(actual!)}\ntemplate: {Show(c.Template)}");
        var because = $"expected a {c.ErrorKind} error ({c.ErrorMessage}); got {thrown.GetType().Name}: {thrown.Message}\ntemplate: {Show(c.Template)}";
        switch (c.ErrorKind)
        {
            case "syntax":
                Assert.True(thrown is TemplateSyntaxException, because);
                if (c.ErrorLine is { } line) Assert.True(line == ((TemplateSyntaxException)thrown).Line, $"line {((TemplateSyntaxException)thrown).Line}, Jinja2 says {line}: {because}");
                break;
            case "raised":
                Assert.True(thrown is TemplateRaisedException, because);
                Assert.Equal(c.ErrorMessage, thrown.Message);
                break;
            case "runtime":
            case "undefined": // Jinja2's UndefinedError: the engine reports it as a runtime error
                Assert.True(thrown is TemplateRuntimeException, because);
                break;
            default:
                Assert.Fail($"unknown error kind {c.ErrorKind} in cases.json");
                break;
        }
    }

    [Fact]
    public void Corpus_is_present_and_large()
    {
        Assert.True(ConformanceCorpus.Cases.Count >= 400, $"{ConformanceCorpus.Cases.Count} cases in {ConformanceCorpus.Path}");
    }

    /// <summary>Control characters visible, so whitespace differences can be read off the failure message.</summary>
    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s, ShowOptions);

    private static readonly System.Text.Json.JsonSerializerOptions ShowOptions =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
