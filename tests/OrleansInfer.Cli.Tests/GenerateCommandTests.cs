using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in new[] { "gguf", "bin" })
            for (var i = 0; i < SharedData.Reference.Cases.Count; i++) data.Add(file, i);
        return data;
    }

    private static string[] ModelArgs(string file) => file == "gguf"
        ? ["--model", SharedData.Stories260KGguf]
        : ["--model", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512];

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyJsonMatchesTheReference(string file, int index)
    {
        var reference = SharedData.Reference.Cases[index];
        var r = CliRunner.Run(["generate", .. ModelArgs(file), "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "64", "--json", "--threads", "2"]);
        Assert.True(r.ExitCode == 0, r.Error);
        var line = Assert.Single(r.JsonLines);
        Assert.Equal(reference.Prompt, line.GetProperty("prompt").GetString());
        Assert.Equal(reference.PromptTokenIds, line.Ints("prompt_token_ids"));
        Assert.Equal(reference.GeneratedTokenIds, line.Ints("token_ids"));
        Assert.Equal(reference.Text[reference.Prompt.Length..], line.GetProperty("text").GetString());
        Assert.Equal("length", line.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void PromptsFileGivesOneLinePerPromptInInputOrder()
    {
        var cases = SharedData.Reference.Cases;
        var path = Path.Combine(_folder, "prompts.jsonl");
        File.WriteAllLines(path, [JsonSerializer.Serialize(cases[0].Prompt), "", JsonSerializer.Serialize("Lily and Ben"), JsonSerializer.Serialize(cases[1].Prompt)]);
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompts-file", path, "--temperature", "0", "--max-tokens", "64", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var lines = r.JsonLines;
        Assert.Equal([cases[0].Prompt, "Lily and Ben", cases[1].Prompt], lines.Select(l => l.GetProperty("prompt").GetString()));
        Assert.Equal(cases[0].GeneratedTokenIds, lines[0].Ints("token_ids"));
        Assert.Equal(cases[1].GeneratedTokenIds, lines[2].Ints("token_ids"));

        // The third prompt alone gives what it gave in the batch.
        var alone = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", "Lily and Ben", "--temperature", "0", "--max-tokens", "64", "--json");
        Assert.Equal(lines[1].Ints("token_ids"), Assert.Single(alone.JsonLines).Ints("token_ids"));
    }

    [Fact]
    public void WithoutJsonTheTextIsStreamedAfterThePrompt()
    {
        var reference = SharedData.Reference.Cases[0];
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "64");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(reference.Text + "\n", r.Output);
        Assert.Contains("tokens/s", r.Error);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndStopsAtEos()
    {
        string[] args = ["generate", "--model", SharedData.Stories260KGguf, "--prompt", "Once upon a time", "--temperature", "1", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", "5", "--max-tokens", "400", "--json"];
        var a = Assert.Single(CliRunner.Run(args).JsonLines);
        var b = Assert.Single(CliRunner.Run(args).JsonLines);
        Assert.Equal(a.Ints("token_ids"), b.Ints("token_ids"));
        // stories260K.gguf says its context is 128: 5 prompt tokens leave room for at most 123.
        var tokens = a.Ints("token_ids");
        Assert.True(tokens.Length <= 123);
        Assert.Equal(tokens.Length < 123 ? "stop" : "length", a.GetProperty("finish_reason").GetString());
        if (tokens.Length < 123) Assert.Equal(2, tokens[^1]);
    }

    [Theory]
    [InlineData("--temperature", "-1", "--temperature")]
    [InlineData("--temperature", "NaN", "--temperature")]
    [InlineData("--top-p", "0", "--top-p")]
    [InlineData("--top-p", "1.5", "--top-p")]
    [InlineData("--max-tokens", "0", "--max-tokens")]
    [InlineData("--min-p", "2", "--min-p")]
    public void BadSamplingParametersExitWithTwoNamingTheOption(string option, string value, string named)
    {
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", "x", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(named, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Fact]
    public void PromptLongerThanTheContextIsRejected()
    {
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", string.Concat(Enumerable.Repeat("Once upon a time ", 60)));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("context", r.Error);
    }

    [Fact]
    public void APromptThatFailsGetsItsErrorInItsPlaceAndTheOthersAreWritten()
    {
        var path = Path.Combine(_folder, "mixed.jsonl");
        var tooLong = string.Concat(Enumerable.Repeat("Once upon a time ", 60));
        File.WriteAllLines(path, [JsonSerializer.Serialize("Once upon a time"), JsonSerializer.Serialize(tooLong), JsonSerializer.Serialize("Lily and Ben")]);
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompts-file", path, "--temperature", "0", "--max-tokens", "8", "--json");
        Assert.Equal(2, r.ExitCode); // the only failure is bad input
        var lines = r.JsonLines;
        Assert.Equal(3, lines.Count);
        Assert.Equal(8, lines[0].Ints("token_ids").Length);
        Assert.Equal(1, lines[1].GetProperty("index").GetInt32());
        Assert.Equal(tooLong, lines[1].GetProperty("prompt").GetString());
        Assert.Equal("invalid_request", lines[1].GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("context", lines[1].GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(8, lines[2].Ints("token_ids").Length);
        Assert.Contains("1 of 3 prompt(s) failed", r.Error);
    }

    [Fact]
    public void BadPromptsFileLineIsNamed()
    {
        var path = Path.Combine(_folder, "bad.jsonl");
        File.WriteAllLines(path, ["\"ok\"", "not json"]);
        var r = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompts-file", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bad.jsonl:2", r.Error);
    }

    public static TheoryData<string[]> Pressures() => new()
    {
        Array.Empty<string>(),
        new[] { "--kv-blocks", "6" },                          // preemption must happen
        new[] { "--max-num-batched-tokens", "8" },             // chunked prefill
        new[] { "--kv-blocks", "24", "--block-size", "4", "--max-num-batched-tokens", "5" },
    };

    [Theory]
    [MemberData(nameof(Pressures))]
    public void FourPromptsTogetherEqualEachAlone(string[] limits)
    {
        var cases = SharedData.Reference.Cases;
        string[] prompts = [cases[0].Prompt, cases[1].Prompt, "Lily and Ben went to the park. They saw a big dog", "The little bird could not fly, so"];
        var path = Path.Combine(_folder, "four.jsonl");
        File.WriteAllLines(path, prompts.Select(p => JsonSerializer.Serialize(p)));
        var together = CliRunner.Run(["generate", "--model", SharedData.Stories260KGguf, "--prompts-file", path, "--temperature", "0", "--max-tokens", "64", "--json", .. limits]);
        Assert.True(together.ExitCode == 0, together.Error);
        var lines = together.JsonLines;
        Assert.Equal(4, lines.Count);
        Assert.Equal(cases[0].GeneratedTokenIds, lines[0].Ints("token_ids"));
        Assert.Equal(cases[1].GeneratedTokenIds, lines[1].Ints("token_ids"));
        for (var i = 0; i < 4; i++)
        {
            var alone = CliRunner.Run("generate", "--model", SharedData.Stories260KGguf, "--prompt", prompts[i], "--temperature", "0", "--max-tokens", "64", "--json");
            Assert.Equal(Assert.Single(alone.JsonLines).Ints("token_ids"), lines[i].Ints("token_ids"));
        }
        if (limits.Contains("6")) Assert.Contains(" preemption(s)", together.Error);
        if (limits.Contains("6")) Assert.DoesNotContain(" 0 preemption(s)", together.Error);
    }
}
