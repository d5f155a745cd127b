using System.Diagnostics;
using System.Text.Json;

namespace OrleansInfer.Cli.Tests;

/// <summary>Runs the CLI in-process (fast) or as the real orleans-infer executable (exit codes, stderr).</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public IReadOnlyList<JsonElement> JsonLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
    }

    public static Result Run(params string[] args) => RunWithInput("", args);

    /// <summary>Runs in-process with <paramref name="input"/> as standard input (not a terminal).</summary>
    public static Result RunWithInput(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliApp.RunAsync(args, new StringReader(input), output, error).GetAwaiter().GetResult();
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs orleans-infer.dll (copied beside the tests) in a child process.</summary>
    public static Result RunProcess(params string[] args) => RunProcess(new Dictionary<string, string>(), args);

    /// <summary>Runs orleans-infer.dll in a child process with <paramref name="environment"/> added to its environment.</summary>
    public static Result RunProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "orleans-infer.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"orleans-infer {string.Join(' ', args)} did not exit within 120 s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static int[] Ints(this JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
