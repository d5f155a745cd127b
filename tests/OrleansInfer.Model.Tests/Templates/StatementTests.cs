using OrleansInfer.Model.Templates;

namespace OrleansInfer.Model.Tests.Templates;

/// <summary>for, if, set, macro, call, filter and raw blocks and Jinja scoping, checked against Python Jinja2.</summary>
public sealed class StatementTests
{
    [Theory]
    [InlineData("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.cycle('a','b') }}{{ loop.depth }}{% endfor %}", "10TrueFalse332a121FalseFalse321b132FalseTrue310a1")]
    [InlineData("{% for a in l %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", "-1|3-2|1-|")]
    [InlineData("{% for a in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for a in l if a > 1 %}{{ a }}{{ loop.length }}{% endfor %}", "3222")]
    [InlineData("{% for a in l %}{% if a == 1 %}{% continue %}{% endif %}{% if a == 2 %}{% break %}{% endif %}{{ a }}{% endfor %}", "3")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=1;a=2;")]
    [InlineData("{% for a, b in [(1,2),(3,4)] %}{{ a + b }}{% endfor %}", "37")]
    [InlineData("{% for k in d %}{{ k }}{% endfor %}", "ba")]
    [InlineData("{% for c in 'ab' %}{{ c }}{% endfor %}", "ab")]
    [InlineData("{% set a = 1 %}{% for i in l %}{% set a = i %}{% endfor %}{{ a }}", "1")]
    [InlineData("{% if true %}{% set b = 2 %}{% endif %}{{ b }}", "2")]
    [InlineData("{% set ns = namespace(c=0) %}{% for i in l %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}", "6")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12")]
    [InlineData("{% set x %}hello {{ 1 }}{% endset %}{{ x }}", "hello 1")]
    [InlineData("{% set y | upper %}abc{% endset %}{{ y }}", "ABC")]
    [InlineData("{% set t = (1, 2) %}{{ t }}", "(1, 2)")]
    [InlineData("{% macro m(a, b=2) %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, 3) }}{{ m(b=5, a=0) }}", "[12][13][05]")]
    [InlineData("{% macro v() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ v(1, 2, k=3) }}", "(1, 2){'k': 3}")]
    [InlineData("{% macro w(x) %}<{{ caller(x) }}>{% endmacro %}{% call(y) w(5) %}got {{ y }}{% endcall %}", "<got 5>")]
    [InlineData("{% filter upper %}abc{{ 'd' }}{% endfilter %}", "ABCD")]
    [InlineData("{% raw %}{{ not }}{% endraw %}", "{{ not }}")]
    [InlineData("{% for i in range(3) %}{{ i }}{% endfor %}", "012")]
    [InlineData("{{ range(1, 10, 3)|list }}", "[1, 4, 7]")]
    [InlineData("{{ range(5, 0, -2)|list }}", "[5, 3, 1]")]
    [InlineData("{{ dict(a=1, b=2) }}", "{'a': 1, 'b': 2}")]
    [InlineData("{{ namespace(a=1).a }}", "1")]
    [InlineData("a  {%- if true %} b {% endif -%}  c|{{- ' x ' -}}|{# comment #}d {#- c -#} e", "a b c| x |de")]
    public void RendersAsJinja2(string template, string expected) => Assert.Equal(expected, Render.Of(template));
}
