using System.Text.Json;

namespace OrleansInfer.Testing;

/// <summary>
/// Locates the shared test data folder: $ORLEANSINFER_SHARED when set, else "../shared" beside the repository
/// root (found by walking up from the test binaries to the folder holding OrleansInfer.sln). A test that needs
/// a file fails with a message saying where it looked; it never passes silently.
/// </summary>
public static class SharedData
{
    public const string EnvironmentVariable = "ORLEANSINFER_SHARED";

    private static readonly Lazy<string> Root = new(Locate);

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Folder => Root.Value;

    /// <summary>Full path of a file under the shared folder; throws when it is missing.</summary>
    public static string File(params string[] relative)
    {
        var path = Path.Combine([Folder, .. relative]);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"shared test file missing: {path} (set {EnvironmentVariable} to the shared folder, or place it at ../shared beside the repository)", path);
        return path;
    }

    public static string Model(string name) => File("models", name);

    public static string Stories260KGguf => Model("stories260K.gguf");

    public static string Stories260KBin => Model("stories260K.bin");

    public static string Tok512 => Model("tok512.bin");

    public static string Llama2Tokenizer => Model("llama2-tokenizer.bin");

    public static GreedyReference Reference => GreedyReference.Load(File("reference", "stories260K-greedy.json"));

    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var candidate = !string.IsNullOrWhiteSpace(env) ? env : Path.Combine(Path.GetDirectoryName(RepositoryRoot)!, "shared");
        if (!Directory.Exists(candidate))
            throw new DirectoryNotFoundException($"shared test data not found at {candidate}: set {EnvironmentVariable} or place the shared folder beside the repository (../shared)");
        return Path.GetFullPath(candidate);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "OrleansInfer.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"OrleansInfer.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>The greedy reference outputs of stories260K (../shared/reference/stories260K-greedy.json).</summary>
public sealed record GreedyReference(IReadOnlyList<GreedyCase> Cases)
{
    public static GreedyReference Load(string path)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        var cases = new List<GreedyCase>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var logits = new List<float[]>();
            for (var k = 0; c.TryGetProperty($"logits_step{k}", out var l); k++)
                logits.Add(l.EnumerateArray().Select(x => x.GetSingle()).ToArray());
            cases.Add(new GreedyCase(
                c.GetProperty("prompt").GetString()!,
                c.GetProperty("prompt_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("generated_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("text").GetString()!,
                logits));
        }
        return new GreedyReference(cases);
    }
}

/// <summary>One reference prompt: its tokens, the 64 greedy tokens after it, the full text, and the first logits.</summary>
public sealed record GreedyCase(string Prompt, int[] PromptTokenIds, int[] GeneratedTokenIds, string Text, IReadOnlyList<float[]> Logits);
