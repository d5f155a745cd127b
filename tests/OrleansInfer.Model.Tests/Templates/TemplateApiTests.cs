using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>The public surface: variables from JSON, parse once and render many (concurrently), the clock of strftime_now.</summary>
public sealed class TemplateApiTests
{
    [Fact]
    public void JsonNumbersBecomePythonIntAndFloat()
    {
        var vars = JsonNode.Parse("""{"i": 3, "f": 3.0, "e": 1e2, "big": 123456789012345678901234567890, "n": null, "o": {"z": 1, "a": 2}}""")!.AsObject();
        var output = JinjaTemplate.Parse("{{ i }} {{ f }} {{ e }} {{ i is integer }} {{ f is float }} {{ n }} {{ o }} {{ o|tojson }}").Render(vars);
        Assert.Equal("3 3.0 100.0 True True None {'z': 1, 'a': 2} {\"z\": 1, \"a\": 2}", output);
    }

    [Fact]
    public void ValuesBuiltInCodeAreAccepted()
    {
        var vars = new JsonObject { ["i"] = 3, ["f"] = 2.5, ["s"] = "x", ["b"] = true, ["l"] = new JsonArray(1, "a") };
        Assert.Equal("3|2.5|x|True|[1, 'a']", JinjaTemplate.Parse("{{ i }}|{{ f }}|{{ s }}|{{ b }}|{{ l }}").Render(vars));
    }

    [Fact]
    public void RendersConcurrentlyFromOneParse()
    {
        var template = JinjaTemplate.Parse("{% set ns = namespace(t=0) %}{% for i in range(n) %}{% set ns.t = ns.t + i %}{% endfor %}{{ ns.t }}");
        Parallel.For(0, 200, i => Assert.Equal((i * (i - 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), template.Render(new() { ["n"] = i })));
    }

    [Fact]
    public void RenderDoesNotMutateTheCallersVariables()
    {
        var vars = JsonNode.Parse("""{"l": [1]}""")!.AsObject();
        var template = JinjaTemplate.Parse("{% do l.append(2) %}{{ l }}");
        Assert.Equal("[1, 2]", template.Render(vars));
        Assert.Equal("[1, 2]", template.Render(vars));
        Assert.Equal("[1]", vars["l"]!.ToJsonString());
    }

    [Fact]
    public void StrftimeNowReadsTheClock()
    {
        var options = new TemplateOptions { Clock = new FixedClock(new DateTimeOffset(2024, 7, 5, 14, 3, 9, TimeSpan.Zero)) };
        var output = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B %y, %A %a %H:%M:%S %I%p %j %m') }}", options).Render([]);
        Assert.Equal("05 Jul 2024|5 July 24, Friday Fri 14:03:09 02PM 187 07", output);
    }

    [Fact]
    public void GenerationBlockRendersItsBody()
        => Assert.Equal("ab", JinjaTemplate.Parse("{% generation %}a{% endgeneration %}{{ 'b' }}").Render([]));

    [Fact]
    public void RaisedMessageIsExactlyTheArgument()
    {
        var e = Assert.Throws<TemplateRaisedException>(() => JinjaTemplate.Parse("{{ raise_exception('Roles must alternate: ' ~ 1) }}").Render([]));
        Assert.Equal("Roles must alternate: 1", e.Message);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
