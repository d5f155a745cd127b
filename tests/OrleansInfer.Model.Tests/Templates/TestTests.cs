using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>The built-in tests (is defined, is divisibleby 3, ...), checked against Python Jinja2.</summary>
public sealed class TestTests
{
    [Theory]
    [InlineData("{{ x is defined }}", "True")]
    [InlineData("{{ zz is undefined }}", "True")]
    [InlineData("{{ n is none }}", "True")]
    [InlineData("{{ s is string }}", "True")]
    [InlineData("{{ x is number }}", "True")]
    [InlineData("{{ t is number }}", "True")]
    [InlineData("{{ x is integer }}", "True")]
    [InlineData("{{ y is float }}", "True")]
    [InlineData("{{ d is mapping }}", "True")]
    [InlineData("{{ l is iterable }}", "True")]
    [InlineData("{{ s is sequence }}", "True")]
    [InlineData("{{ t is boolean }}", "True")]
    [InlineData("{{ t is true }}", "True")]
    [InlineData("{{ t is false }}", "False")]
    [InlineData("{{ x is equalto 3 }}", "True")]
    [InlineData("{{ x is eq 3 }}", "True")]
    [InlineData("{{ x is ne 3 }}", "False")]
    [InlineData("{{ x is lt 4 }}", "True")]
    [InlineData("{{ x is gt 4 }}", "False")]
    [InlineData("{{ x is le 3 }}", "True")]
    [InlineData("{{ x is ge 3 }}", "True")]
    [InlineData("{{ n is sameas none }}", "True")]
    [InlineData("{{ x is odd }}", "True")]
    [InlineData("{{ x is even }}", "False")]
    [InlineData("{{ 9 is divisibleby 3 }}", "True")]
    [InlineData("{{ 9 is divisibleby(4) }}", "False")]
    [InlineData("{{ 2 is in [1,2] }}", "True")]
    [InlineData("{{ range is callable }}", "True")]
    [InlineData("{{ 'abc' is lower }}", "True")]
    [InlineData("{{ 'ABC' is upper }}", "True")]
    [InlineData("{{ x is not none }}", "True")]
    public void RendersAsJinja2(string template, string expected) => Assert.Equal(expected, Render.Of(template));

    [Theory]
    [InlineData("{{ x is == 3 }}", "TemplateSyntaxException", "expected token 'name', got '=='")]
    public void FailsAsJinja2(string template, string exception, string message)
    {
        var e = Assert.ThrowsAny<TemplateException>(() => Render.Of(template));
        Assert.Equal(exception, e.GetType().Name);
        Assert.Equal(message, e.Message);
    }
}
