using OrleansInfer.Backends.Cpu;
using OrleansInfer.Engine.Runner;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>The ILGPU runner against the CPU backend on mixed batches, its KV sizing, its errors and its thread.</summary>
public sealed class RunnerTests : IDisposable
{
    private readonly ModelFile _model = ModelFile.Open(SharedData.Stories260KGguf);

    public void Dispose() => _model.Dispose();

    [Fact]
    public void MixedBatchesMatchTheCpuBackend()
    {
        // Two prompts prefilled side by side in chunks of 3, a fork through a block copy, then decodes of all three;
        // small blocks (4 slots) so sequences cross many block boundaries, and split attention (32 positions per split).
        using var cpu = new CpuModelRunner(_model, new CpuRunnerOptions { Threads = 1, KvBlocks = 64, BlockSize = 4 });
        using var gpu = new IlgpuModelRunner(_model, CpuAccelerator.Options(kvBlocks: 64, blockSize: 4, splitLength: 32));
        var prompt = SharedData.Reference.Cases[0].PromptTokenIds;
        var diff = ModelRuns.CompareMixedBatches(cpu, gpu, prompt, [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298], decodeSteps: 6);
        Assert.True(diff <= 1e-4, $"logits differ from the CPU backend by {diff}");
    }

    [Fact]
    public void TheKvPoolFollowsTheBudgetAndTheMemoryIsReported()
    {
        var c = _model.Config!;
        var perBlock = KvCacheInfo.BytesPerToken(c, sizeof(float)) * 16;
        using var runner = new IlgpuModelRunner(_model, new IlgpuRunnerOptions { Device = IlgpuDevice.Cpu, KvCacheBytes = 10 * perBlock + 1, CpuWarpSize = 4, CpuMultiprocessors = 1 });
        Assert.Equal(10, runner.KvCache.BlockCount);
        Assert.Equal(10 * perBlock, runner.Memory.KvCacheBytes);
        Assert.True(runner.Memory.WeightBytes >= _model.Weights!.All().Sum(t => t.ElementCount) * 4 - c.VocabSize * c.EmbeddingLength * 4L);
        Assert.False(runner.IsCuda);
        Assert.Contains("CPU accelerator", runner.DeviceName);
    }

    [Fact]
    public void InvalidBatchesAreRejectedWithClearErrors()
    {
        using var runner = new IlgpuModelRunner(_model, CpuAccelerator.Options(kvBlocks: 4, maxBatchTokens: 8));
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
        batch.UpdateBlocks(2, 0, [4]);
        Assert.Contains("outside the pool", Assert.Throws<InvalidOperationException>(() => runner.Execute(batch, logits)).Message);
    }

    [Fact]
    public async Task StepsFromAnyThreadRunOnTheAcceleratorThread()
    {
        using var runner = new IlgpuModelRunner(_model, CpuAccelerator.Options(kvBlocks: 8));
        var prompt = SharedData.Reference.Cases[0].PromptTokenIds;
        var first = await Task.Run(() => new RunnerDriver(runner).Prefill(1, prompt));
        var second = new RunnerDriver(runner).Prefill(2, prompt);
        Assert.Equal(first, second);
        Assert.Equal(SharedData.Reference.Cases[0].GeneratedTokenIds[0], Engine.Sampling.Sampler.Greedy(first));
    }
}

/// <summary>The engine thread's side of a step allocates nothing once warm (packing, posting, waiting).</summary>
public sealed class AllocationTests
{
    [Fact]
    public void DecodeStepsAllocateNothingOnTheCallingThread()
    {
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 16));
        var batch = new ForwardBatch();
        var logits = new float[3 * runner.Config.VocabSize];
        int[] one = [1];
        for (var s = 0; s < 3; s++) batch.UpdateBlocks(s, 0, [s * 4, s * 4 + 1]);
        void Step(int pos)
        {
            for (var s = 0; s < 3; s++) batch.AddSequence(s, pos, one, true);
            runner.Execute(batch, logits);
            batch.Clear();
        }
        for (var pos = 0; pos < 4; pos++) Step(pos); // warm-up: list capacities
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var pos = 4; pos < 10; pos++) Step(pos);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
