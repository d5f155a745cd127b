using System.CommandLine;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>
/// `--backend ilgpu` when the CUDA driver is installed but fails to initialise: one line naming the driver's error
/// and exit code 1, never a silent fall back to the emulator; without a driver the documented behaviour stays.
/// </summary>
public sealed class CudaDriverFailureTests : IDisposable
{
    private const string Cause = "CUDA initialisation failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected";
    private static readonly CudaProbe Failing = new(0, CudaProblem.InitializationFailed, Cause);
    private static readonly CudaProbe NoDriver = new(0, CudaProblem.NoDriver, "no CUDA driver: none of libcuda.so, libcuda.so.1 could be loaded");
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-libcuda-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static RunnerChoice Choose(CudaProbe probe, params string[] args)
    {
        var limits = new EngineLimitOptions { ProbeCuda = () => probe };
        var command = new Command("generate");
        limits.AddTo(command);
        return limits.ToRunnerOptions(command.Parse(args), threads: 1);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cuda")]
    public void IlgpuWithAFailingDriverIsAFailureNamingTheCause(string device)
    {
        var e = Assert.Throws<CliException>(() => Choose(Failing, "--backend", "ilgpu", "--device", device));
        Assert.Equal(ExitCodes.Failure, e.ExitCode);
        Assert.Equal($"--backend ilgpu: {Cause}", e.Message);
    }

    [Fact]
    public void WithoutADriverAutoEmulatesAndCudaIsRefusedNamingTheCause()
    {
        Assert.Equal(IlgpuDevice.Auto, Choose(NoDriver, "--backend", "ilgpu").Ilgpu.Device);
        var e = Assert.Throws<CliException>(() => Choose(NoDriver, "--backend", "ilgpu", "--device", "cuda"));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Equal("--device cuda: no CUDA device found (no CUDA driver: none of libcuda.so, libcuda.so.1 could be loaded)", e.Message);
    }

    [Theory]
    [InlineData("--backend", "cpu", "--device", "auto")]
    [InlineData("--backend", "ilgpu", "--device", "cpu")]
    public void BackendsThatDoNotUseCudaDoNotAskTheDriver(params string[] args)
    {
        var limits = new EngineLimitOptions { ProbeCuda = () => throw new InvalidOperationException("the CUDA driver was asked") };
        var command = new Command("generate");
        limits.AddTo(command);
        Assert.Equal(args[1], limits.ToRunnerOptions(command.Parse(args), threads: 1).Backend);
    }

    [NeedsCCompilerFact]
    public void GenerateWithAFailingDriverLibraryExitsWithOneLine()
    {
        FakeLibcuda.Build(_folder, "libcuda.so.1", initResult: 100);
        var r = CliRunner.RunProcess(new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = _folder },
            "generate", "--model", SharedData.Stories260KGguf, "--prompt", "x", "--max-tokens", "2", "--backend", "ilgpu");
        Assert.Equal($"orleans-infer: --backend ilgpu: {Cause}\n", r.Error);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Output);
    }
}
