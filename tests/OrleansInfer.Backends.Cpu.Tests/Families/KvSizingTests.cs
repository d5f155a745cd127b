using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Backends.Cpu.Tests.Families;

/// <summary>A KV pool of per-layer KV head counts (deci) is the per-layer sum, never the widest layer times the layer count.</summary>
public sealed class KvSizingTests
{
    [Theory]
    [InlineData(KvCacheDataType.F32, 4)]
    [InlineData(KvCacheDataType.F16, 2)]
    public void BytesPerBlockSumTheLayersKvWidths(KvCacheDataType type, int bytesPerValue)
    {
        using var built = FamilyModels.Build("deci");
        var c = built.Model.Config!;
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 1, BlockSize = 4, KvBlocks = 8, KvCacheDataType = type });
        // Layers' KV heads 2, 1, 4 of head size 12: keys and values of 7 heads, where 3 layers x 4 heads would be 12.
        var expected = 4L * 2 * (2 + 1 + 4) * 12 * bytesPerValue;
        Assert.True(runner.KvCache.BytesPerBlock == expected, $"{type}: a block takes {runner.KvCache.BytesPerBlock} bytes, the per-layer sum is {expected}");
        Assert.Equal(expected / 4, KvCacheInfo.BytesPerToken(c, type));
        Assert.Equal(2L * (2 + 1 + 4) * 12 * bytesPerValue, KvCacheInfo.BytesPerToken(c, bytesPerValue));
    }

    [Fact]
    public void AByteBudgetHoldsTheBlocksThePerLayerSumAllows()
    {
        using var built = FamilyModels.Build("deci");
        var perBlock = 16L * 2 * 7 * 12 * sizeof(float);
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 1, KvCacheBytes = 10 * perBlock });
        Assert.True(runner.KvCache.BlockCount == 10, $"a budget of 10 blocks' bytes gave {runner.KvCache.BlockCount} blocks (10 expected)");
    }
}

/// <summary>The families' paths (windows, soft-caps, GeGLU, post norms, per-layer widths) allocate nothing per step either.</summary>
public sealed class FamilyAllocationTests
{
    [Theory]
    [InlineData("gemma2")]
    [InlineData("gemma3")]
    [InlineData("deci")]
    [InlineData("qwen2")]
    public void DecodeStepsAllocateNothing(string family)
    {
        using var built = FamilyModels.Build(family);
        using var runner = new CpuModelRunner(built.Model, new CpuRunnerOptions { Threads = 2, BlockSize = 4, KvBlocks = 64 });
        var batch = new ForwardBatch();
        var logits = new float[3 * runner.Config.VocabSize];
        int[] one = [1];
        for (var s = 0; s < 3; s++) batch.UpdateBlocks(s, 0, [.. Enumerable.Range(s * 16, 16)]);
        void Step(int pos)
        {
            for (var s = 0; s < 3; s++) batch.AddSequence(s, pos, one, true);
            runner.Execute(batch, logits);
            batch.Clear();
        }
        for (var pos = 0; pos < 20; pos++) Step(pos); // warm-up: tiered JIT, list capacities
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var pos = 20; pos < 60; pos++) Step(pos);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before == 0, $"{family}: 40 decode steps allocated {GC.GetAllocatedBytesForCurrentThread() - before} bytes (none expected)");
    }
}
