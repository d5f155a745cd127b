using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>The ILGPU runner's KV pool in f16 and q8_0: the greedy reference at f16, sizes, the q8_0 head-size error, and agreement with the CPU backend.</summary>
public sealed class KvCacheDataTypeTests(Heads32ModelFixture small, ITestOutputHelper output) : IClassFixture<Heads32ModelFixture>
{
    [Fact]
    public void F16KeepsTheGreedyReference()
    {
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 64, splitLength: 32) with { KvCacheDataType = KvCacheDataType.F16 });
        var outcome = ModelRuns.GreedyReference(runner, SharedData.Reference);
        for (var i = 0; i < outcome.Length; i++)
        {
            output.WriteLine($"case {i}: largest logit difference from the f32 reference {outcome[i].MaxLogitDiff:E2}");
            Assert.True(outcome[i].TokensMatch, $"case {i}: greedy tokens differ from the reference at f16 KV");
            // As on the CPU backend: f16's 2^-11 rounding moves logits by a few 1e-3.
            Assert.True(outcome[i].MaxLogitDiff <= 2e-2, $"case {i}: f16 KV moved logits by {outcome[i].MaxLogitDiff} (at most 2e-2 expected)");
        }
    }

    [Theory]
    [InlineData(KvCacheDataType.F16)]
    [InlineData(KvCacheDataType.Q8_0)]
    public void MixedBatchesMatchTheCpuBackend(KvCacheDataType type)
    {
        // The same encodings on both backends (round to nearest even for f16, ggml's q8_0 rounding). The backends'
        // f32 keys differ by ~1e-6, which can move a value across an f16 or q8_0 rounding boundary: one step of
        // 2^-11 relative (f16) or max|x|/127 of its block (q8_0, ~1% of a value), a few 1e-4 in the logits (seen:
        // q8_0 7e-4 on tiny256). q8_0 needs heads of whole 32-value blocks (the 32-wide heads model).
        using var model = ModelFile.Open(type == KvCacheDataType.Q8_0 ? small.Path : SharedData.Stories260KGguf);
        using var cpu = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 64, BlockSize = 4, KvCacheDataType = type });
        using var gpu = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 64, blockSize: 4, splitLength: 32) with { KvCacheDataType = type });
        var diff = ModelRuns.CompareMixedBatches(cpu, gpu, SharedData.Reference.Cases[0].PromptTokenIds, [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298], decodeSteps: 6);
        output.WriteLine($"{KvCacheDataTypes.Name(type)}: largest logit difference ILGPU vs CPU {diff:E2}");
        var bound = type == KvCacheDataType.Q8_0 ? 1e-2 : 1e-3;
        Assert.True(diff <= bound, $"{KvCacheDataTypes.Name(type)} KV: logits differ from the CPU backend by {diff} (at most {bound} expected)");
    }

    [Theory]
    [InlineData(KvCacheDataType.F32, 128)]
    [InlineData(KvCacheDataType.F16, 64)]
    [InlineData(KvCacheDataType.Q8_0, 34)]
    public void KvBytesFollowTheEncoding(KvCacheDataType type, int bytesPer32Values)
    {
        using var model = ModelFile.Open(small.Path);
        var c = model.Config!;
        var budget = 8 * 16 * KvCacheInfo.BytesPerToken(c, sizeof(float));
        using var runner = new IlgpuModelRunner(model, new IlgpuRunnerOptions { Device = IlgpuDevice.Cpu, KvCacheBytes = budget, KvCacheDataType = type, CpuWarpSize = 4, CpuMultiprocessors = 1 });
        Assert.Equal(2L * c.BlockCount * c.KvDim / 32 * bytesPer32Values, runner.KvCache.TokenBytes);
        Assert.Equal(budget / (16 * runner.KvCache.TokenBytes), runner.KvCache.BlockCount);
        Assert.Equal(runner.KvCache.TotalBytes, runner.Memory.KvCacheBytes);
        Assert.Equal(type, runner.KvCache.DataType);
    }

    [Fact]
    public void Q8NeedsHeadsOfWholeBlocks()
    {
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        var e = Assert.Throws<ArgumentException>(() => new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 4) with { KvCacheDataType = KvCacheDataType.Q8_0 }));
        Assert.Contains("head size is 8", e.Message);
    }
}

/// <summary>The kernels' f16 rounding equals System.Half's (ILGPU's own CPU conversion truncates).</summary>
public sealed class HalfBitsTests
{
    [Fact]
    public void FloatToHalfRoundsToNearestEvenLikeSystemHalf()
    {
        var rng = new Random(3);
        float[] edges = [0f, -0f, 65504f, 65519.996f, 65520f, 1e9f, 6.1035156e-05f, 6.1035153e-05f, 2.9802322e-08f, 2.9802326e-08f, 5.9604645e-08f, 1e-30f, float.PositiveInfinity, float.NegativeInfinity];
        var values = edges.Concat(Enumerable.Range(0, 200_000).Select(_ => (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-27, 17)))));
        foreach (var x in values)
            Assert.True(BitConverter.HalfToUInt16Bits((Half)x) == HalfBits.FromFloat(x), $"{x:R}: expected {BitConverter.HalfToUInt16Bits((Half)x):X4}, got {HalfBits.FromFloat(x):X4}");
        Assert.True(float.IsNaN(HalfBits.ToFloat(HalfBits.FromFloat(float.NaN))), "NaN stays NaN");
    }

    [Fact]
    public void HalfToFloatIsExact()
    {
        for (var bits = 0; bits < 0x10000; bits++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            var actual = HalfBits.ToFloat((ushort)bits);
            Assert.True(expected.Equals(actual), $"{bits:X4}: expected {expected}, got {actual}");
        }
    }
}
