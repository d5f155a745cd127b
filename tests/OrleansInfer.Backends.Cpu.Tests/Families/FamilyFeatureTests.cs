using OrleansInfer.Engine.Runner;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests.Families;

/// <summary>
/// The runner against the naive double-precision pass for each family's features (in-memory f32 weights), and the
/// batching invariances that hold for llama holding for them too. Tolerance: every logit within 1e-4 x max(1, max |logit|)
/// of the naive value (f32 accumulation over widths of at most 112; measured below 1e-5 relative).
/// </summary>
public sealed class FamilyFeatureTests
{
    private static readonly int[] PromptA = [1, 42, 77, 300, 12, 5, 99, 401, 18, 250, 3, 64, 511]; // 13 tokens: longer than the window of 5
    private static readonly int[] PromptB = [1, 7, 222, 19, 480, 33, 61, 150, 2];

    [Theory]
    [MemberData(nameof(FamilyModels.Names), MemberType = typeof(FamilyModels))]
    public void PrefillAndDecodeLogitsMatchTheNaivePass(string family)
    {
        using var built = FamilyModels.Build(family);
        var naive = new NaiveLlama(built.Model);
        // Block size 3: prompts and windows cross block boundaries; windows start mid-block.
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 2, BlockSize = 3, KvBlocks = 32 });
        var driver = new RunnerDriver(runner);

        var rows = driver.Step((1, 0, PromptA, true), (2, 0, PromptB, true));
        AssertClose(naive.LastLogits(PromptA), rows[0], $"{family}: prompt A prefill");
        AssertClose(naive.LastLogits(PromptB), rows[1], $"{family}: prompt B prefill");
        int[] a = PromptA, b = PromptB;
        for (var step = 0; step < 4; step++)
        {
            int nextA = 10 + 37 * step, nextB = 500 - 41 * step;
            rows = driver.Step((1, a.Length, [nextA], true), (2, b.Length, [nextB], true));
            a = [.. a, nextA];
            b = [.. b, nextB];
            AssertClose(naive.LastLogits(a), rows[0], $"{family}: decode step {step} of A (position {a.Length - 1})");
            AssertClose(naive.LastLogits(b), rows[1], $"{family}: decode step {step} of B (position {b.Length - 1})");
        }
    }

    [Theory]
    [MemberData(nameof(FamilyModels.Names), MemberType = typeof(FamilyModels))]
    public void SequencesInOneBatchGiveTheSameLogitsAsAlone(string family)
    {
        using var built = FamilyModels.Build(family);
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 2, BlockSize = 4, KvBlocks = 48 });
        var driver = new RunnerDriver(runner);
        int[] promptC = [1, 300, 301, 302];
        var alone = new[] { PromptA, PromptB, promptC }.Select((p, i) =>
        {
            var logits = driver.Prefill(10 + i, p);
            driver.Release(10 + i);
            return logits;
        }).ToArray();

        var together = driver.Step((1, 0, PromptA, true), (2, 0, PromptB, true), (3, 0, promptC, true));
        for (var i = 0; i < 3; i++) Assert.True(alone[i].SequenceEqual(together[i]), $"{family}: prompt {i}'s logits in a batch of three differ from its logits alone");
    }

    /// <summary>Chunked prefill (1 token = the decode path, 3, 7) gives the one-pass logits bit for bit, with prompts longer than the window.</summary>
    [Theory]
    [InlineData("gemma2", 1)]
    [InlineData("gemma2", 3)]
    [InlineData("gemma3", 1)]
    [InlineData("gemma3", 7)]
    public void ChunkedPrefillEqualsOnePassPastTheWindow(string family, int chunk)
    {
        using var built = FamilyModels.Build(family);
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 2, BlockSize = 3, KvBlocks = 32 });
        var driver = new RunnerDriver(runner);
        var (whole, wholeLogits) = driver.Greedy(1, PromptA, 6);
        var (chunked, chunkedLogits) = driver.Greedy(2, PromptA, 6, chunk);
        Assert.Equal(whole, chunked);
        for (var i = 0; i < wholeLogits.Count; i++)
            Assert.True(wholeLogits[i].SequenceEqual(chunkedLogits[i]), $"{family}: step {i}'s logits after a prefill in chunks of {chunk} differ from a one-pass prefill's");
    }

    [Fact]
    public void AWindowedLayerIgnoresEverythingBeforeItsWindow()
    {
        // Every layer windowed (5 tokens): once a sequence is past position 5 + block, its first block is invisible to
        // every layer, so overwriting it with another sequence's cache changes nothing.
        var (config, features) = FamilyModels.Describe("gemma2");
        using var built = new InMemoryModel(config with { SlidingWindowLayers = [true, true, true] }, features);
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 1, BlockSize = 3, KvBlocks = 16 });
        var batch = new ForwardBatch();
        var vocab = runner.Config.VocabSize;
        var before = new float[vocab];
        var after = new float[vocab];
        batch.UpdateBlocks(1, 0, [0, 1, 2, 3, 4]);
        batch.UpdateBlocks(2, 0, [8, 9, 10, 11, 12]);
        batch.AddSequence(1, 0, PromptA, false);
        batch.AddSequence(2, 0, PromptB, false);
        runner.Execute(batch, []);
        batch.Clear();
        batch.AddSequence(1, PromptA.Length, [40], true); // position 13 sees 9..13: blocks 3 and 4 only
        runner.Execute(batch, before);
        batch.Clear();
        batch.CopyBlock(8, 0);
        batch.CopyBlock(9, 1);
        batch.CopyBlock(10, 2);
        batch.AddSequence(1, PromptA.Length, [40], true);
        runner.Execute(batch, after);
        Assert.True(before.SequenceEqual(after), "overwriting blocks wholly before the window changed the logits (expected them unread)");
    }

    internal static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        var diffs = expected.Zip(actual).Select(p => Math.Abs(p.First - p.Second)).ToArray();
        var worst = Array.IndexOf(diffs, diffs.Max());
        Assert.True(diffs[worst] <= 1e-4 * Math.Max(1, scale),
            $"{what}: logit {worst} is {actual[worst]}, the naive pass gives {expected[worst]} (difference {diffs[worst]}, at most {1e-4 * Math.Max(1, scale)} expected)");
    }
}
