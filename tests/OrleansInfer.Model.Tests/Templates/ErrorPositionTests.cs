using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>Every error names the line and column of the first character of the token or expression at fault.</summary>
public sealed class ErrorPositionTests
{
    [Theory]
    [InlineData("{{ x|nofilter }}", 1, 6, "No filter named 'nofilter'.")]
    [InlineData("a\n  {{ 1 is nosuch }}", 2, 11, "No test named 'nosuch'.")]
    [InlineData("{% foo %}", 1, 4, "Encountered unknown tag 'foo'.")]
    [InlineData("x {% endif %}", 1, 6, "Encountered unknown tag 'endif'.")]
    [InlineData("{{ (1 + }}", 1, 9, "unexpected '}', expected ')'")]
    [InlineData("{% for x in %}{% endfor %}", 1, 13, "Expected an expression, got 'end of statement block'")]
    [InlineData("{# unclosed", 1, 1, "Missing end of comment tag")]
    [InlineData("{% break %}", 1, 4, "'break' outside loop")]
    [InlineData("{{ 007 }}", 1, 6, "expected token 'end of print statement', got 'integer'")]
    public void SyntaxErrors(string source, int line, int column, string message)
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source));
        Assert.Equal((line, column, message), (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void UnclosedBlockIsReportedAtTheLastToken()
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse("line1\n{% for x in y %}\nline3\nline4"));
        Assert.Equal((3, 1), (e.Line, e.Column));
        Assert.Equal("Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.", e.Message);
    }

    [Fact]
    public void UnknownFilterInsideIfFailsOnlyWhenRun()
    {
        var template = JinjaTemplate.Parse("{% if x %}\n  {{ y|nofilter }}{% endif %}");
        Assert.Equal("", template.Render([]));
        var e = Assert.Throws<TemplateRuntimeException>(() => template.Render(new() { ["x"] = true }));
        Assert.Equal((2, 8, "No filter named 'nofilter' found."), (e.Line, e.Column, e.Message));
    }

    [Theory]
    [InlineData("a\n  {{ raise_exception('boom') }}", 2, 6)]
    [InlineData("{% if true %}{{ raise_exception('boom') }}{% endif %}", 1, 17)]
    public void RaisedExceptionCarriesTheCallSite(string source, int line, int column)
    {
        var e = Assert.Throws<TemplateRaisedException>(() => JinjaTemplate.Parse(source).Render([]));
        Assert.Equal(("boom", line, column), (e.Message, e.Line, e.Column));
    }

    [Theory]
    [InlineData("\n\n   {{ 1 + 'a' }}", 3, 7, "unsupported operand type(s) for +: 'int' and 'str'")]
    [InlineData("{{ x.y.z }}", 1, 4, "'x' is undefined")]
    [InlineData("{{ 'a' ~ missing.attr }}", 1, 10, "'missing' is undefined")]
    [InlineData("{{ {}.a.b }}", 1, 4, "'dict object' has no attribute 'a'")]
    [InlineData("{% set ns = 1 %}{% set ns.a = 2 %}", 1, 24, "cannot assign attribute on non-namespace object")]
    [InlineData("{{ 1 / 0 }}", 1, 4, "division by zero")]
    [InlineData("{{ 3() }}", 1, 4, "'int' object is not callable")]
    [InlineData("{{ 'a'|upper(1) }}", 1, 8, "do_upper() takes 1 positional argument but 2 were given")]
    public void RuntimeErrors(string source, int line, int column, string message)
    {
        var e = Assert.Throws<TemplateRuntimeException>(() => JinjaTemplate.Parse(source).Render([]));
        Assert.Equal((line, column, message), (e.Line, e.Column, e.Message));
        Assert.Equal($"line {line}, column {column}: {message}", e.Describe());
    }
}
