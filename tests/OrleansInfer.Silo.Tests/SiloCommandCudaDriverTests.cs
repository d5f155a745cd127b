using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>Runs after the parallel tests: silo processes starting meanwhile would load the machine under the multi-process failover test.</summary>
[CollectionDefinition(nameof(SiloCommandCudaDriverTests), DisableParallelization = true)]
public sealed class SiloCommandCudaDriverCollection;

/// <summary>
/// `orleans-infer silo` processes meeting a stand-in libcuda whose cuInit fails (through LD_LIBRARY_PATH): with
/// --backend ilgpu one line naming the driver's error and exit code 1; with auto a warning naming it, then CPU workers.
/// </summary>
[Collection(nameof(SiloCommandCudaDriverTests))]
public sealed class SiloCommandCudaDriverTests : IDisposable
{
    private const string Cause = "CUDA initialisation failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-libcuda-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [NeedsCCompilerFact]
    public async Task TheSiloCommandWithAFailingDriverLibraryExitsWithOneLine()
    {
        FakeLibcuda.Build(_folder, "libcuda.so.1", initResult: 100);
        var port = FreePorts.Next();
        using var silo = new ChildProcess("silo", new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = _folder },
            "silo", "--model", SharedData.Stories260KGguf, "--backend", "ilgpu", "--silo-port", $"{port}", "--primary-silo-port", $"{port}", "--gateway-port", $"{FreePorts.Next()}");
        Assert.Equal(1, await silo.WaitForExit(Timeout));
        Assert.Equal([$"err: orleans-infer: --backend ilgpu: {Cause}"], silo.Lines);
    }

    [NeedsCCompilerFact]
    public async Task TheSiloCommandWithAFailingDriverLibraryWarnsAndServesOnCpu()
    {
        FakeLibcuda.Build(_folder, "libcuda.so.1", initResult: 100);
        var port = FreePorts.Next();
        using var silo = new ChildProcess("silo", new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = _folder },
            "silo", "--model", SharedData.Stories260KGguf, "--threads", "1", "--silo-port", $"{port}", "--primary-silo-port", $"{port}", "--gateway-port", $"{FreePorts.Next()}");
        // stdout and stderr are separate pipes: wait for each line rather than assume their order.
        var warning = await silo.WaitForLine(l => l.Contains("OrleansInfer.Silo.WorkerEngines"), Timeout, "a log line of WorkerEngines");
        Assert.Equal($"warn: OrleansInfer.Silo.WorkerEngines[0] --backend auto: {Cause}; starting 1 CPU worker(s) instead", warning);
        var ready = await silo.WaitForLine(ChildProcess.IsReadyLine, Timeout, "a line containing 'ready'");
        Assert.Contains(", 1 worker(s), ", ready);
        await silo.WaitForLine(l => l.StartsWith("  worker ", StringComparison.Ordinal), Timeout, "the started worker's line");
    }
}
