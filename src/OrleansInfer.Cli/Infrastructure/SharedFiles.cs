namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// Finds the project's shared model files (tokenizers for synthetic models): $ORLEANSINFER_SHARED/models, or a
/// "shared/models" folder beside the working directory or the executable or any of their parents.
/// </summary>
internal static class SharedFiles
{
    public const string EnvironmentVariable = "ORLEANSINFER_SHARED";

    public static string? FindModelFile(string name)
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            var p = Path.Combine(env, "models", name);
            if (File.Exists(p)) return p;
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, "shared", "models", name);
                if (File.Exists(p)) return p;
            }
        }
        return null;
    }
}
