using System.Text.Json.Nodes;

namespace OrleansInfer.Testing;

/// <summary>
/// The real chat templates of ../shared/chat-templates and their cases: the context given and the exact output, or the
/// message the template raises.
/// </summary>
/// <remarks>
/// The expected outputs were made with @huggingface/jinja. In two functionary cases that differs from Python's Jinja2
/// with transformers' settings (checked with jinja2 3.1.6), which is what the engine follows; there the tests expect
/// Python's result (<see cref="Case.PythonTypeError"/>, <see cref="Case.PythonOutput"/>).
/// </remarks>
public static class SharedChatTemplates
{
    public sealed record Case(string Template, string Name, string TemplatePath, JsonObject Context, string? Output, string? Error)
    {
        /// <summary>Where Python's Jinja2 raises a TypeError instead of rendering the expected output: its message.</summary>
        public string? PythonTypeError => ToString() == StrPlusDict ? "can only concatenate str (not \"dict\") to str" : null;

        /// <summary>What Python's Jinja2 renders: <see cref="Output"/>, but for the Markup-escaped tool lines of functionary.</summary>
        public string? PythonOutput => ToString() == MarkupPlusStr && Output is not null ? EscapeToolJsonLines(Output) : Output;

        public override string ToString() => $"{Template}/{Name}";
    }

    // functionary concatenates a str and the arguments dict: JavaScript prints "[object Map]", Python raises.
    private const string StrPlusDict = "meetkai-functionary-medium-v3.1/tool-call-round-trip";

    // functionary writes "..."|safe + t | tojson: in Python a Markup plus a str escapes the str, so each tool's JSON line
    // has &#34; for its quotes (what transformers renders); JavaScript has no Markup.
    private const string MarkupPlusStr = "meetkai-functionary-medium-v3.1/tools";

    public static string Folder
    {
        get
        {
            var folder = Path.Combine(SharedData.Folder, "chat-templates");
            return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"shared chat templates missing: {folder} (the shared folder must hold chat-templates/)");
        }
    }

    public static IReadOnlyList<Case> All { get; } = Load();

    /// <summary>Case ids "TEMPLATE/NAME", for theory data.</summary>
    public static IEnumerable<string> Ids => All.Select(c => c.ToString());

    public static Case Get(string id) => All.Single(c => c.ToString() == id);

    private static string EscapeToolJsonLines(string output)
    {
        var lines = output.Split('\n');
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i - 1].StartsWith("Use the function '", StringComparison.Ordinal) && lines[i].StartsWith("{\"", StringComparison.Ordinal))
                lines[i] = lines[i].Replace("\"", "&#34;", StringComparison.Ordinal);
        }
        return string.Join('\n', lines);
    }

    private static List<Case> Load()
    {
        var cases = new List<Case>();
        foreach (var file in Directory.GetFiles(Folder, "*.expected.json").Order(StringComparer.Ordinal))
        {
            var doc = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            var templateFile = doc["template"]!.GetValue<string>();
            var template = Path.GetFileNameWithoutExtension(templateFile);
            foreach (var c in doc["cases"]!.AsArray())
            {
                cases.Add(new Case(template, c!["name"]!.GetValue<string>(), Path.Combine(Folder, templateFile), c["context"]!.AsObject(),
                    c["output"]?.GetValue<string>(), c["error"]?.GetValue<string>()));
            }
        }
        if (cases.Count == 0) throw new InvalidOperationException($"no *.expected.json cases in {Folder}");
        return cases;
    }
}
