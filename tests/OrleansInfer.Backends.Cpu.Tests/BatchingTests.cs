using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests;

/// <summary>How a token is batched never changes its result: alone, with others, in chunks, or with any block size.</summary>
public sealed class BatchingTests : IDisposable
{
    private readonly ModelFile _model = ModelFile.Open(SharedData.Stories260KGguf);

    public void Dispose() => _model.Dispose();

    private static readonly int[] PromptA = SharedData.Reference.Cases[0].PromptTokenIds;
    private static readonly int[] PromptB = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267];

    [Fact]
    public void SequencesInOneBatchGiveTheSameLogitsAsAlone()
    {
        using var runner = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 2, KvBlocks = 32 });
        var driver = new RunnerDriver(runner);
        var aloneA = driver.Prefill(1, PromptA);
        driver.Release(1);
        var aloneB = driver.Prefill(2, PromptB);
        driver.Release(2);

        var together = driver.Step((3, 0, PromptA, true), (4, 0, PromptB, true));
        Assert.Equal(aloneA, together[0]);
        Assert.Equal(aloneB, together[1]);
        Assert.Equal(32, driver.Blocks.FreeBlocks + driver.Blocks.UsedBlocks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void ChunkedPrefillEqualsOnePass(int chunk)
    {
        using var runner = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 2, KvBlocks = 16 });
        var driver = new RunnerDriver(runner);
        var whole = driver.Prefill(1, PromptB);
        var chunked = driver.Prefill(2, PromptB, chunk);
        Assert.Equal(whole, chunked);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(64)]
    public void BlockSizeDoesNotChangeTheGreedyOutput(int blockSize)
    {
        var reference = SharedData.Reference.Cases[0];
        using var runner = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 1, BlockSize = blockSize, KvBlocks = 80 / blockSize + 2 });
        var (tokens, _) = new RunnerDriver(runner).Greedy(1, reference.PromptTokenIds, 64);
        Assert.Equal(reference.GeneratedTokenIds, tokens);
    }

    [Fact]
    public void CopiedBlocksServeAForkedSequence()
    {
        using var runner = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 2, BlockSize = 4, KvBlocks = 16 });
        var batch = new ForwardBatch();
        var vocab = runner.Config.VocabSize;
        var logits = new float[2 * vocab];
        // Sequence 1 holds blocks 0-1 (5 prompt tokens); sequence 2 shares block 0 and gets a copy of block 1 as block 7.
        batch.UpdateBlocks(1, 0, [0, 1]);
        batch.AddSequence(1, 0, PromptA, true);
        runner.Execute(batch, logits);
        batch.Clear();
        batch.CopyBlock(1, 7);
        batch.UpdateBlocks(2, 0, [0, 7]);
        batch.AddSequence(1, PromptA.Length, [432], true);
        batch.AddSequence(2, PromptA.Length, [432], true);
        runner.Execute(batch, logits);
        Assert.Equal(logits.AsSpan(0, vocab).ToArray(), logits.AsSpan(vocab, vocab).ToArray());
    }

    [Fact]
    public void InvalidBatchesAreRejectedWithClearErrors()
    {
        using var runner = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 1, KvBlocks = 4, MaxBatchTokens = 8 });
        var batch = new ForwardBatch();
        var logits = new float[runner.Config.VocabSize];
        batch.AddSequence(9, 0, [1, 2], true);
        Assert.Contains("without a block table", Assert.Throws<InvalidOperationException>(() => runner.Execute(batch, logits)).Message);

        batch.Clear();
        batch.UpdateBlocks(1, 0, [0]);
        batch.AddSequence(1, 0, [1, 9999], true);
        Assert.Contains("9999", Assert.Throws<ArgumentOutOfRangeException>(() => runner.Execute(batch, logits)).Message);

        batch.Clear();
        batch.AddSequence(1, 0, Enumerable.Repeat(1, 9).ToArray(), true);
        Assert.Contains("at most 8", Assert.Throws<ArgumentException>(() => runner.Execute(batch, logits)).Message);

        batch.Clear();
        batch.UpdateBlocks(3, 0, [0, 1, 2, 3, 0, 1, 2, 3, 0]);
        batch.AddSequence(3, 128, [1], true);
        Assert.Contains("outside the model's context of 128", Assert.Throws<ArgumentException>(() => runner.Execute(batch, logits)).Message);

        batch.Clear();
        batch.UpdateBlocks(2, 0, [4]);
        Assert.Contains("outside the pool", Assert.Throws<InvalidOperationException>(() => runner.Execute(batch, logits)).Message);
    }
}

/// <summary>The hot path allocates nothing once warm: decode steps of several sequences, with logits.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void DecodeStepsAllocateNothing()
    {
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 2, KvBlocks = 16 });
        var batch = new ForwardBatch();
        var logits = new float[3 * runner.Config.VocabSize];
        int[] one = [1];
        for (var s = 0; s < 3; s++) batch.UpdateBlocks(s, 0, [s * 4, s * 4 + 1, s * 4 + 2, s * 4 + 3]);
        void Step(int pos)
        {
            for (var s = 0; s < 3; s++) batch.AddSequence(s, pos, one, true);
            runner.Execute(batch, logits);
            batch.Clear();
        }
        for (var pos = 0; pos < 20; pos++) Step(pos); // warm-up: tiered JIT, list capacities
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var pos = 20; pos < 60; pos++) Step(pos);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
