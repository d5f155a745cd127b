using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// The drills' workload: 60 greedy prompts, written as a prompts file, and their outputs from one process without a
/// cluster (the fault-free reference every drill's outputs must equal exactly).
/// </summary>
public sealed class DrillWorkload
{
    private static readonly string[] Names = ["Lily", "Ben", "Tom", "Sue", "Max", "Mia", "Sam", "Anna", "Tim", "Lucy"];
    private static readonly string[] Starts = ["went to the park", "found a big box", "wanted to play", "saw a little bird", "had a red ball", "lost a toy"];

    private DrillWorkload(string promptsFile, string[] generateFlags, IReadOnlyList<int[]> expected)
    {
        PromptsFile = promptsFile;
        GenerateFlags = generateFlags;
        Expected = expected;
    }

    public static IReadOnlyList<string> Prompts { get; } = Names.SelectMany(n => Starts.Select(s => $"Once upon a time, {n} {s}")).ToArray();

    public string PromptsFile { get; }

    /// <summary>The sampling flags of every run of this workload (reference and drills).</summary>
    public string[] GenerateFlags { get; }

    public IReadOnlyList<int[]> Expected { get; }

    public static async Task<DrillWorkload> CreateAsync(string folder, int maxTokens, bool ignoreEos)
    {
        var file = Path.Combine(folder, "prompts.jsonl");
        await File.WriteAllLinesAsync(file, Prompts.Select(p => JsonSerializer.Serialize(p)));
        string[] flags = ["--prompts-file", file, "--temperature", "0", "--max-tokens", $"{maxTokens}", "--json", .. ignoreEos ? new[] { "--ignore-eos" } : []];
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await Cli.CliApp.RunAsync(["generate", "--model", SharedData.Stories260KGguf, "--threads", "1", .. flags], output, error);
        if (code != 0) throw new InvalidOperationException($"the reference run exited {code}: {error}");
        var expected = TokenIds(output.ToString());
        if (expected.Count != Prompts.Count) throw new InvalidOperationException($"the reference run gave {expected.Count} results for {Prompts.Count} prompts");
        return new DrillWorkload(file, flags, expected);
    }

    /// <summary>The token ids of each JSON line, in order; a line without them (an error object) fails with its text.</summary>
    public static List<int[]> TokenIds(string jsonLines) => jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
    {
        var root = JsonDocument.Parse(line).RootElement;
        if (!root.TryGetProperty("token_ids", out var ids)) throw new InvalidOperationException($"not a result: {line}");
        return ids.EnumerateArray().Select(t => t.GetInt32()).ToArray();
    }).ToList();

    /// <summary>Asserts that the generate process printed exactly the reference outputs, each once, in order.</summary>
    public void AssertOutputs(ChildProcess generate)
    {
        var outputs = TokenIds(generate.Output);
        Assert.True(outputs.Count == Expected.Count, $"expected {Expected.Count} results, got {outputs.Count}:\n{string.Join('\n', generate.Lines.TakeLast(30))}");
        for (var i = 0; i < Expected.Count; i++) Assert.True(Expected[i].SequenceEqual(outputs[i]), $"prompt {i}: expected [{string.Join(",", Expected[i])}], got [{string.Join(",", outputs[i])}]");
    }
}
