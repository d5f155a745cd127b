using OrleansInfer.Backends.Cpu;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests.Families;

/// <summary>
/// Every architecture's tiny preset (<see cref="FamilyModels"/>: what <c>model synth --arch ARCH --preset tiny</c>
/// writes, every feature of the family on, a window of 8 shorter than the prompts; f32, the tok512 vocabulary) on the
/// ILGPU runner (emulator) against the CPU backend: chunked prefill of two prompts, a fork through a block copy,
/// decodes. Beyond the in-memory <c>FamilyCases</c> these go through the loader: phi3's fused slices and LongRoPE
/// table, YaRN's and linear scaling's tables, gemma3's local/global bases.
/// </summary>
public sealed class SynthesizedFamilyTests(ITestOutputHelper output)
{
    /// <summary>f32 sums in another order than the CPU backend's, through up to 7 layers of width 128.</summary>
    private const double Tolerance = 1e-4;

    /// <summary>
    /// gemma: ggml's GELU rounds its input to f16 (the table lookup both backends do), so a last-bit difference in a gate
    /// value can move it a whole f16 step (5e-4 relative), and 4-7 layers carry that to the logits (|logits| ≤ ~3).
    /// Seen on gemma3/tiny: 7.8e-4 between the backends, and 5.0e-4 (ILGPU) / 8.8e-4 (CPU) from the double-precision
    /// <c>ReferenceRunner</c>: the same spread on every side, so this bound is about twice what the CPU backend itself
    /// shows against exact arithmetic (gemma2/tiny: 3.8e-4).
    /// </summary>
    private const double GeluTolerance = 2e-3;

    public static TheoryData<string, string> Models()
    {
        var data = new TheoryData<string, string>();
        foreach (var (arch, preset) in FamilyModels.Tiny) data.Add(arch.Name(), preset);
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesTheCpuBackend(string arch, string preset)
    {
        Assert.True(ModelArchitectures.TryParse(arch, out var architecture), $"unknown architecture {arch}");
        using var model = FamilyModels.Open(architecture, preset);
        using var cpu = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 64, BlockSize = 4 });
        using var gpu = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 64, blockSize: 4));
        var rng = new Random(9);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(3, model.Config!.VocabSize)).ToArray();
        var diff = ModelRuns.CompareMixedBatches(cpu, gpu, Prompt(11), Prompt(13), decodeSteps: 4);
        var bound = model.Config!.Activation == FeedForwardActivation.GeluTanh ? GeluTolerance : Tolerance;
        output.WriteLine($"{arch}/{preset} ({model.Config!.Describe()}): largest logit difference {diff:E2}");
        Assert.True(diff <= bound, $"{arch}/{preset}: logits differ from the CPU backend by {diff:E2} (at most {bound:E0} expected)");
        Assert.Equal(cpu.KvCache.BytesPerBlock, gpu.KvCache.BytesPerBlock);
    }
}
