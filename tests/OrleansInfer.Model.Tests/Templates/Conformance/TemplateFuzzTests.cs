using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Model.Tests.Templates.Conformance;

/// <summary>
/// Robustness: whatever the source, parsing and rendering ends in a string or a <see cref="TemplateException"/> —
/// never another exception, never a hang. Inputs are token soups of Jinja fragments and mutations of the real chat
/// templates, from fixed seeds so a failure reproduces; plus hand-written hostile templates that must hit a bound.
/// </summary>
public sealed class TemplateFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 2_000;

    // Tight bounds: they are what guarantees every render terminates quickly.
    private static readonly TemplateOptions Tight = new()
    {
        MaxLoopIterations = 10_000,
        MaxOutputLength = 100_000,
        MaxRecursionDepth = 32,
        Clock = new FixedClock(new DateTimeOffset(2024, 7, 26, 14, 5, 9, TimeSpan.Zero)),
    };

    private const string ContextJson = """
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <b>"},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": {"a": 1}}}]},
          {"role": "tool", "content": "{\"r\": 2}", "tool_call_id": "c1"}, {"role": "user", "content": "again"}],
         "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}],
         "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "x": 3, "xs": [1, "a", null, 2.5],
         "d": {"k": "v", "n": {"m": [1, 2]}}}
        """;

    // Pieces of Jinja syntax, valid and not, that soups are made of.
    private static readonly string[] Fragments =
    [
        "{%", "%}", "{{", "}}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "{%+", " ", "\n", "\r\n", "\t", "x", "xs",
        "d", "messages", "loop", "ns", "if ", "elif ", "else", "endif", "for ", " in ", "endfor", "set ", "endset",
        "macro ", "endmacro", "call", "endcall", "filter ", "endfilter", "raw", "endraw", "break", "continue",
        "namespace(", "range(", "raise_exception(", "strftime_now(", "caller(", "recursive", "loop(", "is ", "not ",
        "and ", "or ", "defined", "none", "string", "|", "upper", "tojson", "join", "map(", "attribute=", "selectattr(",
        "default(", "length", "trim", "indent(", "(", ")", "[", "]", "{", "}", ",", ":", ".", "=", "==", "!=", "<", ">",
        "+", "-", "*", "**", "/", "//", "%", "~", "'", "\"", "'a'", "\"b\"", "'\\u00e9'", "'\\", "0", "1", "-1",
        "1.5", "1e308", "10**9", "True", "false", "None", "m", "m.role", "m['content']", "[::-1]", "[1:]", ".items()",
        ".split(", ".strip()", "é", "😀", "\0", "x if y else z", "loop.index", "loop.last", "ns.flag",
    ];

    public static TheoryData<int> Seeds() => new() { 1, 2, 3 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_outcome_is_a_string_or_a_template_exception(int seed)
    {
        var random = new Random(seed);
        var templates = RealTemplates();
        var slowest = (Ms: 0L, Iteration: -1);
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Iterations; i++)
        {
            // Soups reach the lexer's and parser's corners; well-formed random expressions over mixed types reach the
            // evaluator's (type errors in filters, comparisons, slicing); mutated real templates reach both.
            var source = (i % 3) switch
            {
                0 => Soup(random),
                1 => "{{ " + Expression(random, 4) + " }}",
                _ => Mutate(templates[random.Next(templates.Length)], random),
            };
            var watch = Stopwatch.StartNew();
            var failure = Outcome(source, out var kind);
            watch.Stop();
            outcomes[kind] = outcomes.GetValueOrDefault(kind) + 1;
            if (watch.ElapsedMilliseconds > slowest.Ms) slowest = (watch.ElapsedMilliseconds, i);
            if (failure is not null)
                Assert.Fail($"seed {seed}, iteration {i}: {failure.GetType().FullName}: {failure.Message}\ntemplate:\n{source}\n{failure}");
        }
        // Diagnostic only: how far the inputs got (a corpus of nothing but syntax errors would test little).
        output.WriteLine($"seed {seed}: {Iterations} templates, slowest {slowest.Ms} ms at iteration {slowest.Iteration}; "
            + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
    }

    public static TheoryData<string> HostileNames() => new(Hostile.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void Hostile_template_ends_in_a_template_exception(string name)
    {
        var source = Hostile[name]();
        var watch = Stopwatch.StartNew();
        var thrown = Record.Exception(() => JinjaTemplate.Parse(source, Tight).Render(Context()));
        watch.Stop();
        output.WriteLine($"{name}: {thrown?.GetType().Name ?? "no exception"} after {watch.ElapsedMilliseconds} ms");
        Assert.NotNull(thrown);
        Assert.True(thrown is TemplateException, $"{name}: {thrown.GetType().FullName}: {thrown.Message}");
        // Generous: a bound that works trips in milliseconds; this only catches one that works by exhaustion.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"{name} took {watch.Elapsed}");
    }

    private static readonly Dictionary<string, Func<string>> Hostile = new(StringComparer.Ordinal)
    {
        ["huge-range-loop"] = () => "{% for i in range(10**12) %}x{% endfor %}",
        ["nested-loops-iterations"] = () => "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        ["self-recursive-macro"] = () => "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        ["mutually-recursive-caller"] = () => "{% macro f() %}{% call f() %}{{ caller() }}{% endcall %}{% endmacro %}{{ f() }}",
        ["recursive-loop"] = () => "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
        ["string-times-huge"] = () => "{{ 'a' * 10**10 }}",
        ["string-doubling"] = () => "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        ["output-flood"] = () => "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}",
        ["block-set-flood"] = () => "{% set b %}{% for i in range(10000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}{{ b | length }}",
        ["nested-parens-100000"] = () => "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}",
        ["nested-brackets-100000"] = () => "{{ " + new string('[', 100_000) + new string(']', 100_000) + " }}",
        ["unclosed-parens-100000"] = () => "{{ " + new string('(', 100_000) + " }}",
        ["nested-if-50000"] = () => Repeat("{% if true %}", 50_000) + "x" + Repeat("{% endif %}", 50_000),
        ["nested-for-50000"] = () => Repeat("{% for i in [1] %}", 50_000) + "x" + Repeat("{% endfor %}", 50_000),
        ["unary-not-100000"] = () => "{{ " + Repeat("not ", 100_000) + "true }}",
        ["unary-minus-100000"] = () => "{{ " + new string('-', 100_000) + "1 }}",
        ["list-doubling-printed"] = () => "{% set ns = namespace(x=[1]) %}{% for i in range(100) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}",
        ["list-doubling-tojson"] = () => "{% set ns = namespace(x=[1]) %}{% for i in range(100) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x | tojson }}",
        ["list-times-huge"] = () => "{{ ([1] * 10**10) | length }}",
        // Jinja2 groups ** from the left, so 10 ** 10 ** 10 is only 10^100: the huge one needs the parentheses.
        ["pow-huge"] = () => "{{ 10 ** (10 ** 10) }}",
    };

    /// <summary>Null when the outcome is a string or a TemplateException; otherwise the offending exception.</summary>
    private static Exception? Outcome(string source, out string kind)
    {
        try
        {
            JinjaTemplate.Parse(source, Tight).Render(Context());
            kind = "rendered";
            return null;
        }
        catch (TemplateException e)
        {
            kind = e.GetType().Name;
            return null;
        }
        catch (Exception e)
        {
            kind = "other";
            return e;
        }
    }

    private static JsonObject Context() => (JsonObject)JsonNode.Parse(ContextJson)!;

    private static string Soup(Random random)
    {
        var sb = new StringBuilder();
        var n = random.Next(1, 40);
        for (var k = 0; k < n; k++) sb.Append(Fragments[random.Next(Fragments.Length)]);
        return sb.ToString();
    }

    private static readonly string[] Atoms =
    [
        "x", "xs", "d", "d.n", "d.n.m", "messages", "messages[0]", "messages[2].tool_calls", "tools", "nothere", "none",
        "true", "0", "-1", "2.5", "1e300", "'a'", "''", "'é😀'", "[]", "[1, 'a']", "{}", "{'k': [1]}", "(1, 2)",
        "range(3)", "namespace(a=1)", "bos_token", "loop",
    ];

    private static readonly string[] BinaryOperators =
        ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"];

    private static readonly string[] Filters =
    [
        "length", "upper", "trim", "first", "last", "list", "sort", "reverse", "unique", "join(',')", "tojson",
        "tojson(indent=2)", "int", "float", "abs", "round(1)", "string", "default('z')", "items", "dictsort", "sum",
        "min", "max", "map('string')", "map(attribute='role')", "select", "selectattr('role')", "batch(2)",
        "indent(2)", "replace('a', 'b')", "title", "capitalize", "center(5)", "truncate(3)", "wordcount", "count",
    ];

    private static readonly string[] Tests =
        ["defined", "none", "string", "number", "mapping", "iterable", "sequence", "odd", "even", "divisibleby 2", "in [1]"];

    /// <summary>A syntactically valid expression of random shape over values of every kind.</summary>
    private static string Expression(Random random, int depth)
    {
        if (depth == 0) return Atoms[random.Next(Atoms.Length)];
        var a = Expression(random, depth - 1);
        return random.Next(9) switch
        {
            0 => $"({a} {BinaryOperators[random.Next(BinaryOperators.Length)]} {Expression(random, depth - 1)})",
            1 => $"({a} | {Filters[random.Next(Filters.Length)]})",
            2 => $"({a} is {Tests[random.Next(Tests.Length)]})",
            3 => $"{a}[{Expression(random, depth - 1)}]",
            4 => $"{a}[{random.Next(-3, 3)}:{random.Next(-3, 3)}:{(random.Next(2) == 0 ? -1 : 2)}]",
            5 => $"({a} if {Expression(random, depth - 1)} else {Expression(random, depth - 1)})",
            6 => $"(not {a})",
            7 => $"[{a}, {Expression(random, depth - 1)}]",
            _ => Atoms[random.Next(Atoms.Length)],
        };
    }

    /// <summary>One to three edits of a real template: delete, duplicate or move a span, insert a fragment, truncate.</summary>
    private static string Mutate(string template, Random random)
    {
        var s = template;
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && s.Length > 0; e++)
        {
            var at = random.Next(s.Length);
            var len = Math.Min(random.Next(1, 40), s.Length - at);
            s = random.Next(5) switch
            {
                0 => s.Remove(at, len),
                1 => s.Insert(at, s.Substring(at, len)),
                2 => s.Insert(random.Next(s.Length + 1), Fragments[random.Next(Fragments.Length)]),
                3 => s[..at],
                _ => MoveSpan(s, at, len, random),
            };
        }
        return s;
    }

    private static string MoveSpan(string s, int at, int len, Random random)
    {
        var span = s.Substring(at, len);
        var rest = s.Remove(at, len);
        return rest.Insert(random.Next(rest.Length + 1), span);
    }

    private static string[] RealTemplates()
    {
        var folder = Path.Combine(SharedData.Folder, "chat-templates");
        var files = Directory.GetFiles(folder, "*.jinja").Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 7, $"expected the 7 chat templates in {folder}, found {files.Length}");
        return files.Select(File.ReadAllText).ToArray();
    }

    private static string Repeat(string s, int count) => new StringBuilder(s.Length * count).Insert(0, s, count).ToString();
}
