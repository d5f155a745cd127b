using Microsoft.Extensions.Logging;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// <see cref="WorkerEngines"/> with a CUDA driver that is installed but fails to initialise (a scripted probe): an
/// ilgpu silo refuses to start naming the driver's error; an auto silo logs a warning naming it and starts CPU
/// workers. Without a driver auto falls back quietly.
/// </summary>
public sealed class CudaDriverFailureTests
{
    private const string Cause = "CUDA initialisation failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected";
    private static readonly CudaProbe Failing = new(0, CudaProblem.InitializationFailed, Cause);
    private static readonly CudaProbe NoDriver = new(0, CudaProblem.NoDriver, "no CUDA driver: none of libcuda.so, libcuda.so.1 could be loaded");
    private static SiloOptions Options(string backend) => new() { Model = SharedData.Stories260KGguf, Backend = backend, CpuWorkers = 2, Threads = 1, KvBlocks = 8 };

    [Fact]
    public void AnIlgpuSiloWithAFailingDriverDoesNotStart()
    {
        var logger = new CapturedLogger<WorkerEngines>();
        var e = Assert.Throws<CudaInitializationException>(() => new WorkerEngines(Options("ilgpu"), null, logger, () => Failing));
        Assert.Equal($"--backend ilgpu: {Cause}", e.Message);
        Assert.Same(Failing, e.Probe);
        Assert.Empty(logger.AtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task AnAutoSiloWithAFailingDriverWarnsAndStartsCpuWorkers()
    {
        var logger = new CapturedLogger<WorkerEngines>();
        await using var engines = new WorkerEngines(Options("auto"), null, logger, () => Failing);
        Assert.Equal([$"Warning: --backend auto: {Cause}; starting 2 CPU worker(s) instead"], logger.AtLeast(LogLevel.Warning));
        Assert.Equal([0, 1], engines.Devices);
        Assert.All(engines.Devices, d => Assert.StartsWith("CPU (1 threads, ", engines.Describe(d)));
    }

    [Fact]
    public async Task AnAutoSiloWithoutADriverFallsBackQuietly()
    {
        var logger = new CapturedLogger<WorkerEngines>();
        await using var engines = new WorkerEngines(Options("auto"), null, logger, () => NoDriver);
        // The backend choice is the first line; each worker then reports its KV pool (checked in KvCacheDtypeTests).
        Assert.Equal($"Information: --backend auto: {NoDriver.Detail}; starting 2 CPU worker(s)", logger.Lines[0]);
        Assert.Equal(["worker 0", "worker 1"], logger.Lines.Skip(1).Select(l => l["Information: ".Length..][..8]));
        Assert.Empty(logger.AtLeast(LogLevel.Warning));
        Assert.Equal([0, 1], engines.Devices);
    }

    [Fact]
    public async Task ACpuSiloDoesNotAskTheDriver()
    {
        await using var engines = new WorkerEngines(Options("cpu"), null, null, () => throw new InvalidOperationException("the CUDA driver was asked"));
        Assert.Equal([0, 1], engines.Devices);
    }
}
