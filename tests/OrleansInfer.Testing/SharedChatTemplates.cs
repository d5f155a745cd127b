using System.Text.Json.Nodes;

namespace OrleansInfer.Testing;

/// <summary>
/// The real chat templates of ../shared/chat-templates and their cases: the context given and the exact output, or the
/// message the template raises.
/// </summary>
public static class SharedChatTemplates
{
    public sealed record Case(string Template, string Name, string TemplatePath, JsonObject Context, string? Output, string? Error)
    {
        /// <summary>Where the expected output is not what Python's Jinja2 gives: the TypeError Jinja2 raises instead.</summary>
        public string? PythonTypeError => NotJinja2.GetValueOrDefault(ToString());

        public override string ToString() => $"{Template}/{Name}";
    }

    /// <summary>
    /// Cases whose expected output came from @huggingface/jinja and differs from Python's Jinja2 (checked against jinja2
    /// 3.1.6 with transformers' settings), which is what the engine follows: the error Jinja2 raises there.
    /// </summary>
    private static readonly Dictionary<string, string> NotJinja2 = new(StringComparer.Ordinal)
    {
        // The template concatenates a str and the arguments dict: JavaScript prints "[object Map]", Python raises.
        ["meetkai-functionary-medium-v3.1/tool-call-round-trip"] = "can only concatenate str (not \"dict\") to str",
    };

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
