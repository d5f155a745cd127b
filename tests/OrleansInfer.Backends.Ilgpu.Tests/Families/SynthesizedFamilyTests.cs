using OrleansInfer.Backends.Cpu;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests.Families;

/// <summary>
/// Every architecture's tiny preset (what <c>model synth --arch ARCH --preset tiny</c> writes: every feature of the
/// family on, a window of 8 shorter than the prompts, the shared vocabularies), synthesized at f32, on the ILGPU runner
/// (emulator) against the CPU backend: chunked prefill of two prompts, a fork through a block copy, decodes.
/// </summary>
public sealed class SynthesizedFamilyTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>f32 sums in another order than the CPU backend's, through up to 7 layers of width 128 (logits of a few units).</summary>
    private const double Tolerance = 1e-4;

    /// <summary>
    /// gemma: ggml's GELU rounds its input to f16 (the table lookup both backends do), so a last-bit difference in a gate
    /// value can move it a whole f16 step (5e-4 relative), and 4-7 layers carry that to the logits. Seen on gemma2/gemma3
    /// tiny: 5.3e-4 / 3.7e-4 between the backends, and 2.6e-4 (ILGPU) / 5.4e-4 (CPU) from a double-precision reference:
    /// the same spread on both sides. The bound is the conformance bound against llama.cpp.
    /// </summary>
    private const double GeluTolerance = 1e-3;

    private readonly string _folder = Directory.CreateTempSubdirectory("ilgpu-families-").FullName;

    /// <summary>
    /// The presets that add what the in-memory <c>FamilyCases</c> do not cover: the loader's tensors and RoPE tables
    /// (YaRN's and LongRoPE's scale, phi3's fused slices, gemma3's local/global bases with linear scaling on the global
    /// layers), a byte-level vocabulary of 50257 (qwen2), deci's per-layer widths at 128. About a minute each on the emulator.
    /// </summary>
    public static TheoryData<string> Models() => new("llama/tiny-yarn", "qwen2/tiny", "phi3/tiny", "gemma3/tiny", "deci/tiny");

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesTheCpuBackend(string name)
    {
        var (archName, presetName) = (name[..name.IndexOf('/')], name[(name.IndexOf('/') + 1)..]);
        Assert.True(ModelArchitectures.TryParse(archName, out var arch), $"unknown architecture {archName}");
        var preset = SyntheticPreset.Resolve(presetName, arch);
        var vocabulary = ModelFile.LoadVocabulary(SharedData.File("tokenizers", preset.DefaultTokenizer), vocabSize: null);
        var path = Path.Combine(_folder, $"{archName}-{presetName}.gguf");
        SyntheticModel.Write(preset, vocabulary, GgmlType.F32, path, seed: 1);
        using var model = ModelFile.Open(path);

        using var cpu = new CpuModelRunner(model, new CpuRunnerOptions { Threads = 1, KvBlocks = 64, BlockSize = 4 });
        using var gpu = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 64, blockSize: 4));
        var rng = new Random(9);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(3, model.Config!.VocabSize)).ToArray();
        var diff = ModelRuns.CompareMixedBatches(cpu, gpu, Prompt(11), Prompt(13), decodeSteps: 4);
        var bound = model.Config!.Activation == FeedForwardActivation.GeluTanh ? GeluTolerance : Tolerance;
        output.WriteLine($"{name} ({model.Config!.Describe()}): largest logit difference {diff:E2}");
        Assert.True(diff <= bound, $"{name}: logits differ from the CPU backend by {diff:E2} (at most {bound:E0} expected)");
        Assert.Equal(cpu.KvCache.BytesPerBlock, gpu.KvCache.BytesPerBlock);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
