using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary><see cref="InferenceEngineOptions.KvCacheDataType"/> reaches the runner.</summary>
public sealed class KvCacheDataTypeTests
{
    [Fact]
    public async Task F16HalvesTheBlockBytesAndKeepsTheReferenceTokens()
    {
        var reference = SharedData.Reference.Cases[0];
        await using var f32 = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1, KvBlocks = 16 });
        await using var f16 = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1, KvBlocks = 16, KvCacheDataType = KvCacheDataType.F16 });
        Assert.Equal(f32.KvCache.BytesPerBlock / 2, f16.KvCache.BytesPerBlock);
        var result = await f16.CompleteAsync(reference.Prompt, new SamplingParams { Temperature = 0, MaxTokens = 8 });
        Assert.Equal(reference.GeneratedTokenIds[..8], result.Outputs[0].TokenIds);
    }

    [Fact]
    public async Task Q8OnAModelWithSmallHeadsIsATypedError()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1, KvBlocks = 4, KvCacheDataType = KvCacheDataType.Q8_0 }));
        Assert.Contains("head size is 8", e.Message);
    }
}
