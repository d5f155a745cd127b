using OrleansInfer.Engine.KvCache;

namespace OrleansInfer.Engine.Tests;

public sealed class BlockManagerTests
{
    [Fact]
    public void BlocksAreTakenAsSequencesGrowAndReturnedWhole()
    {
        var m = new BlockManager(blockCount: 4, blockSize: 16);
        var a = new List<int>();
        Assert.True(m.TryEnsureCapacity(a, 1));
        Assert.Single(a);
        Assert.True(m.TryEnsureCapacity(a, 16));
        Assert.Single(a);
        Assert.True(m.TryEnsureCapacity(a, 17));
        Assert.Equal(2, a.Count);
        Assert.Equal(2, m.FreeBlocks);

        var b = new List<int>();
        Assert.False(m.TryEnsureCapacity(b, 48)); // needs 3, 2 free: refused, nothing taken
        Assert.Empty(b);
        Assert.Equal(2, m.FreeBlocks);

        m.Free(a);
        Assert.Empty(a);
        Assert.Equal(4, m.FreeBlocks);
        Assert.True(m.TryEnsureCapacity(b, 64));
        Assert.Equal(4, b.Distinct().Count());
    }

    [Fact]
    public void FreeingTwiceIsAnError()
    {
        var m = new BlockManager(2, 4);
        var a = new List<int>();
        m.TryEnsureCapacity(a, 4);
        var copy = new List<int>(a);
        m.Free(a);
        Assert.Throws<InvalidOperationException>(() => m.Free(copy));
    }
}
