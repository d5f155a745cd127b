namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// Finds the project's shared model files (tokenizers for synthetic models): $ORLEANSINFER_SHARED/models, or a
/// "shared/models" folder beside the working directory or the executable or any of their parents; vocabulary GGUFs
/// the same way under "tokenizers".
/// </summary>
internal static class SharedFiles
{
    public const string EnvironmentVariable = "ORLEANSINFER_SHARED";

    public static string? FindModelFile(string name) => Find("models", name);

    /// <summary>A file of shared/models or, failing that, shared/tokenizers (the vocabulary GGUFs).</summary>
    public static string? FindVocabularyFile(string name) => Find("models", name) ?? Find("tokenizers", name);

    private static string? Find(string folder, string name)
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            var p = Path.Combine(env, folder, name);
            if (File.Exists(p)) return p;
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, "shared", folder, name);
                if (File.Exists(p)) return p;
            }
        }
        return null;
    }
}
