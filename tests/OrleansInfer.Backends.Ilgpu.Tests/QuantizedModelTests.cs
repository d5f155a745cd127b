using OrleansInfer.Backends.Cpu;
using OrleansInfer.Engine.Runner;
using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>The quantized tiny256 models of <see cref="QuantizedModelTests"/>, written once into a temporary folder.</summary>
public sealed class QuantizedModelFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ilgpu-quant-").FullName;

    public QuantizedModelFiles()
    {
        Q4_0 = QuantizedModels.Write(_folder, "q4_0", _ => GgmlType.Q4_0);
        // A Q4_K_M-like mix: Q6_K for the value, down and output projections, Q4_K elsewhere.
        KQuants = QuantizedModels.Write(_folder, "q4_k-q6_k", name =>
            name.EndsWith("attn_v.weight", StringComparison.Ordinal) || name.EndsWith("ffn_down.weight", StringComparison.Ordinal) || name == "output.weight"
                ? GgmlType.Q6_K
                : GgmlType.Q4_K);
    }

    public (string Quantized, string Dequantized) Q4_0 { get; }

    public (string Quantized, string Dequantized) KQuants { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

/// <summary>
/// Whole tiny256 models with Q4_0, Q4_K and Q6_K matrices on the ILGPU runner (emulator) against the CPU runner on the
/// same weights decoded to f32: prefill chunks, mixed and decode steps (the GEMV kernel), and for the K-quants a
/// 33-token prefill (the tiled kernel; slow on the emulator, and Q4_0's tiles are covered by the kernel checks).
/// </summary>
public sealed class QuantizedModelTests(QuantizedModelFiles files, ITestOutputHelper output) : IClassFixture<QuantizedModelFiles>
{
    /// <summary>f32 accumulation in another order than the CPU backend's, over K ≤ 768, through 2 layers.</summary>
    private const double Tolerance = 1e-4;

    [Fact]
    public void Q4_0MatchesTheCpuRunnerOnTheDecodedWeights() => AssertSameLogits(files.Q4_0, "q4_0", tiledPrefill: false);

    [Fact]
    public void Q4_KAndQ6_KMatchTheCpuRunnerOnTheDecodedWeights() => AssertSameLogits(files.KQuants, "q4_k/q6_k", tiledPrefill: true);

    [Fact]
    public void TheWeightBytesAreTheQuantizedSize()
    {
        // Q4_0 and Q6_K keep the file's bytes per block (18 per 32, 210 per 256); Q4_K unpacks its 12 bytes of
        // 6-bit scales into 16 (148 per 256). Norms are f32 as in the file.
        foreach (var (path, extraPerQ4KBlock) in new[] { (files.Q4_0.Quantized, 0), (files.KQuants.Quantized, 4) })
        {
            using var model = ModelFile.Open(path);
            using var runner = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 4));
            var tensors = model.Gguf!.Tensors;
            var expected = tensors.Sum(t => t.ByteCount) + tensors.Where(t => t.Type == GgmlType.Q4_K).Sum(t => t.ElementCount / 256 * extraPerQ4KBlock);
            Assert.True(expected == runner.Memory.WeightBytes, $"{Path.GetFileName(path)}: expected {expected} weight bytes on the device, the runner reports {runner.Memory.WeightBytes}");
        }
    }

    private void AssertSameLogits((string Quantized, string Dequantized) model, string name, bool tiledPrefill)
    {
        using var quantized = ModelFile.Open(model.Quantized);
        using var decoded = ModelFile.Open(model.Dequantized);
        using var cpu = new CpuModelRunner(decoded, new CpuRunnerOptions { Threads = 1, KvBlocks = 16 });
        using var gpu = new IlgpuModelRunner(quantized, CpuAccelerator.Options(kvBlocks: 16));
        var rng = new Random(3);
        var promptA = Enumerable.Range(0, 33).Select(_ => rng.Next(3, 512)).ToArray();
        var promptB = Enumerable.Range(0, 3).Select(_ => rng.Next(3, 512)).ToArray();
        (long, int, int[], bool)[][] prefill = tiledPrefill
            ? [[(0, 0, promptA, true)]]
            : [[(0, 0, promptA[..16], false)], [(0, 16, promptA[16..], true)]];
        (long, int, int[], bool)[][] steps =
        [
            .. prefill,
            [(0, 33, [17], true), (1, 0, promptB, true)],
            [(0, 34, [42], true), (1, 3, [99], true)],
        ];
        var drivers = (new RunnerDriver(cpu), new RunnerDriver(gpu));
        double worst = 0, scale = 0;
        foreach (var step in steps)
        {
            var expected = drivers.Item1.Step(step);
            var actual = drivers.Item2.Step(step);
            for (var r = 0; r < expected.Length; r++)
            {
                scale = Math.Max(scale, expected[r].Max(Math.Abs));
                worst = Math.Max(worst, expected[r].Zip(actual[r]).Max(p => (double)Math.Abs(p.First - p.Second)));
            }
        }
        output.WriteLine($"{name}: largest logit difference {worst:E2} (largest logit {scale:F3})");
        Assert.True(worst <= Tolerance * Math.Max(1, scale), $"{name}: logits differ from the CPU runner on the decoded weights by {worst:E2} (allowed {Tolerance * Math.Max(1, scale):E2})");
    }
}
