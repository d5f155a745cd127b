using OrleansInfer.Model.Templates;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>Every case of the shared chat-templates folder: the exact render, or the message raise_exception gives.</summary>
public sealed class SharedChatTemplateTests
{
    public static TheoryData<string> Cases() => new(SharedChatTemplates.Ids);

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersAsJinja2(string id)
    {
        var c = SharedChatTemplates.Get(id);
        var template = JinjaTemplate.Parse(File.ReadAllText(c.TemplatePath));
        if (c.PythonTypeError is { } typeError)
        {
            var e = Assert.Throws<TemplateRuntimeException>(() => template.Render(c.Context));
            Assert.Equal(typeError, e.Message);
        }
        else if (c.Error is { } error)
        {
            var e = Assert.Throws<TemplateRaisedException>(() => template.Render(c.Context));
            Assert.Equal(error, e.Message);
        }
        else
        {
            Assert.Equal(c.PythonOutput, template.Render(c.Context));
        }
    }

    [Fact]
    public void FiftyCasesAreShared() => Assert.Equal(50, SharedChatTemplates.All.Count);

    [Fact]
    public void OnlyTwoCasesDifferFromTheStoredOutputs()
    {
        var differing = SharedChatTemplates.All.Where(c => c.PythonTypeError is not null || c.PythonOutput != c.Output).Select(c => c.ToString());
        Assert.Equal(["meetkai-functionary-medium-v3.1/tools", "meetkai-functionary-medium-v3.1/tool-call-round-trip"], differing);
    }
}
