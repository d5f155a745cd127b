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
