using System.Diagnostics;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>Each bound of TemplateOptions stops a hostile template quickly with a TemplateLimitException (or a syntax error for depth).</summary>
public sealed class LimitTests
{
    private static readonly TemplateOptions Tight = new() { MaxRecursionDepth = 16, MaxOutputLength = 10_000, MaxLoopIterations = 1_000 };

    [Theory]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")]
    [InlineData("{% macro f() %}{% call f() %}{{ caller() }}{% endcall %}{% endmacro %}{{ f() }}")]
    [InlineData("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}")]
    [InlineData("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}")]
    [InlineData("{% for i in range(10**12) %}x{% endfor %}")]
    [InlineData("{{ 'a' * 10**12 }}")]
    [InlineData("{{ [1] * 10**12 }}")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")]
    [InlineData("{% set ns = namespace(x=[1]) %}{% for i in range(100) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}")]
    [InlineData("{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}")]
    [InlineData("{% set b %}{% for i in range(100) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}")]
    [InlineData("{% set l = [] %}{% for i in range(900) %}{% do l.extend(range(100)) %}{% endfor %}")]
    [InlineData("{{ 7 ** 100000 }}")]
    public void HostileRendersHitABound(string source)
    {
        var watch = Stopwatch.StartNew();
        Assert.Throws<TemplateLimitException>(() => JinjaTemplate.Parse(source, Tight).Render([]));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData(100_000, "(", "1", ")")]
    [InlineData(100_000, "[", "", "]")]
    [InlineData(100_000, "not ", "x", "")]
    [InlineData(100_000, "- ", "1", "")]
    public void DeepExpressionsAreSyntaxErrors(int depth, string open, string middle, string close)
    {
        var source = "{{ " + string.Concat(Enumerable.Repeat(open, depth)) + middle + string.Concat(Enumerable.Repeat(close, depth)) + " }}";
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source));
    }

    [Theory]
    [InlineData("{{ x", ".a", " }}")]
    [InlineData("{{ x", "|upper", " }}")]
    [InlineData("{{ 1", " + 1", " }}")]
    [InlineData("", "{% if 1 %}", "")]
    [InlineData("", "{% for i in [1] %}", "")]
    public void LongChainsAndDeepBlocksAreSyntaxErrors(string head, string repeated, string tail)
    {
        var source = head + string.Concat(Enumerable.Repeat(repeated, 100_000)) + tail;
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source));
    }

    [Fact]
    public void SandboxRangeIsARuntimeErrorBelowTheLoopBound()
    {
        var e = Assert.Throws<TemplateRuntimeException>(() => JinjaTemplate.Parse("{{ range(200000)|length }}").Render([]));
        Assert.Equal("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", e.Message);
    }

    [Fact]
    public void OutputAtTheBoundIsAllowed()
    {
        var options = new TemplateOptions { MaxOutputLength = 1000 };
        Assert.Equal(1000, JinjaTemplate.Parse("{{ 'x' * 1000 }}", options).Render([]).Length);
        Assert.Throws<TemplateLimitException>(() => JinjaTemplate.Parse("{{ 'x' * 1000 }}!", options).Render([]));
    }
}
