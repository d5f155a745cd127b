using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>The real executable: exit codes and clean one-line errors without stack traces.</summary>
public sealed class ProcessTests
{
    [Fact]
    public void GenerateRunsAsAProcess()
    {
        var reference = SharedData.Reference.Cases[0];
        var r = CliRunner.RunProcess("generate", "--model", SharedData.Stories260KGguf, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "64", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(reference.GeneratedTokenIds, Assert.Single(r.JsonLines).Ints("token_ids"));
    }

    [Theory]
    [InlineData("generate", "--model", "/nonexistent/model.gguf", "--prompt", "x")]
    [InlineData("generate", "--nonsense")]
    [InlineData("tokenize", "--model", "/nonexistent.gguf", "--text", "x")]
    public void ErrorsAreOneLineWithoutAStackTrace(params string[] args)
    {
        var r = CliRunner.RunProcess(args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("orleans-infer: ", r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.Error);
    }
}
