using System.Globalization;
using System.Text.Json;

namespace OrleansInfer.Model.Tests.Templates.Conformance;

/// <summary>One case of cases.json: a template, its variables, and what Python Jinja2 made of them.</summary>
public sealed record ConformanceCase(
    string Name,
    string Template,
    string ContextJson,
    string? Output,
    string? ErrorKind,
    string? ErrorMessage,
    int? ErrorLine,
    string Sandbox);

/// <summary>
/// cases.json, produced by generate.py from Python Jinja2 3.1.6 configured as transformers configures it.
/// Loaded once; the tests parse each case's context afresh because a render may mutate lists (append).
/// </summary>
public static class ConformanceCorpus
{
    private static readonly Lazy<(DateTimeOffset Clock, IReadOnlyDictionary<string, ConformanceCase> Cases)> Loaded = new(Load);

    public static DateTimeOffset Clock => Loaded.Value.Clock;

    public static IReadOnlyDictionary<string, ConformanceCase> Cases => Loaded.Value.Cases;

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "Templates", "Conformance", "cases.json");

    private static (DateTimeOffset, IReadOnlyDictionary<string, ConformanceCase>) Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path));
        var root = doc.RootElement;
        // The oracle's clock is a naive local time; the engine's clock is UTC with a UTC local zone: same wall time.
        var clock = new DateTimeOffset(
            DateTime.ParseExact(root.GetProperty("clock").GetString()!, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
            TimeSpan.Zero);
        var cases = new Dictionary<string, ConformanceCase>(StringComparer.Ordinal);
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            string? kind = null, message = null;
            int? line = null;
            if (c.TryGetProperty("error", out var error))
            {
                kind = error.GetProperty("kind").GetString();
                message = error.GetProperty("message").GetString();
                if (error.TryGetProperty("line", out var l)) line = l.GetInt32();
            }
            var name = c.GetProperty("name").GetString()!;
            cases.Add(name, new ConformanceCase(
                name,
                c.GetProperty("template").GetString()!,
                c.GetProperty("context").GetRawText(),
                c.TryGetProperty("output", out var output) ? output.GetString() : null,
                kind,
                message,
                line,
                c.TryGetProperty("sandbox", out var sandbox) ? sandbox.GetString()! : "immutable"));
        }
        return (clock, cases);
    }
}
