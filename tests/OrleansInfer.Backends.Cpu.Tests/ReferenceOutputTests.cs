using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>The CPU runner reproduces llama2.c's greedy reference on stories260K, from the GGUF and from the .bin.</summary>
public sealed class ReferenceOutputTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in new[] { "gguf", "bin" })
            for (var i = 0; i < SharedData.Reference.Cases.Count; i++) data.Add(file, i);
        return data;
    }

    private static ModelFile Open(string file) =>
        file == "gguf" ? ModelFile.Open(SharedData.Stories260KGguf) : ModelFile.Open(SharedData.Stories260KBin, SharedData.Tok512);

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyTokensAndLogitsMatchTheReference(string file, int caseIndex)
    {
        var reference = SharedData.Reference.Cases[caseIndex];
        using var model = Open(file);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, KvBlocks = 16 });
        var (tokens, logits) = new RunnerDriver(runner).Greedy(1, reference.PromptTokenIds, reference.GeneratedTokenIds.Length);

        Assert.Equal(reference.GeneratedTokenIds, tokens);
        for (var step = 0; step < reference.Logits.Count; step++)
        {
            var expected = reference.Logits[step];
            var maxDiff = expected.Zip(logits[step]).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(maxDiff <= 1e-3, $"logits of step {step} differ from the reference by {maxDiff} (at most 1e-3 expected)");
        }
    }
}
