using OrleansInfer.Engine.Runner;
using OrleansInfer.GpuCheck.Families;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests.Families;

/// <summary>
/// Tiny random models with each family's features on the ILGPU runner (emulator) against the naive
/// <see cref="ReferenceRunner"/> of the contract and against the CPU backend (<see cref="FamilyCases"/>: qwen/phi,
/// gemma, deci with f32 and q8_0 KV).
/// </summary>
public sealed class FamilyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in FamilyCases.All()) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(string name)
    {
        var c = FamilyCases.All().Single(c => c.Name == name);
        var (vsReference, vsCpu, ilgpu, cpu) = FamilyCases.Run(c, CpuAccelerator.Options(), cpuThreads: 1);
        output.WriteLine($"{name}: largest logit difference {vsReference:E2} from the reference, {vsCpu:E2} from the CPU backend");
        var bound = FamilyCases.KvTolerance(c.Kv);
        Assert.True(vsReference <= bound, $"{name}: logits differ from the reference by {vsReference:E2} (at most {bound:E0} expected)");
        Assert.True(vsCpu <= bound, $"{name}: logits differ from the CPU backend by {vsCpu:E2} (at most {bound:E0} expected)");
        // The pool's bytes per token sum each layer's KV heads (deci: 1 + 4 + 2 heads of 32 values), blocks of 4 slots.
        var kvHeads = c.Config.LayerKvHeadCounts?.Sum() ?? c.Config.BlockCount * c.Config.KvHeadCount;
        Assert.Equal(2L * kvHeads * KvCacheDataTypes.RowBytes(c.Kv, c.Config.HeadDim) * 4, ilgpu.BytesPerBlock);
        Assert.Equal(cpu.BytesPerBlock, ilgpu.BytesPerBlock);
    }
}
