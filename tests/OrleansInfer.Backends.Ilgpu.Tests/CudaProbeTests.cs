using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>
/// <see cref="IlgpuDevices.Probe(ICudaDriver?)"/> tells "no driver", "driver present but failing" and "N devices"
/// apart and says why: through a scripted driver, and through the real native calls into a stand-in libcuda.
/// </summary>
public sealed class CudaProbeTests : IDisposable
{
    private const string NoDevice = "CUDA initialisation failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected";
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-libcuda-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WithoutADriverLibraryTheProblemIsNoDriver()
    {
        Assert.Equal(new CudaProbe(0, CudaProblem.NoDriver, "no CUDA driver: none of libcuda.so, libcuda.so.1 could be loaded"), IlgpuDevices.Probe(null));
        Assert.Null(LibCuda.Open([Path.Combine(_folder, "libcuda.so.1")]));
    }

    [Fact]
    public void AFailingCuInitIsNamedWithItsCodeAndText()
    {
        var driver = new ScriptedDriver { InitResult = 100 };
        Assert.Equal(new CudaProbe(0, CudaProblem.InitializationFailed, NoDevice), IlgpuDevices.Probe(driver));
        Assert.Equal(0, driver.CountCalls);
    }

    [Fact]
    public void AnErrorCodeTheDriverCannotNameIsStillReported()
    {
        var probe = IlgpuDevices.Probe(new ScriptedDriver { InitResult = 12345 });
        Assert.Equal(new CudaProbe(0, CudaProblem.InitializationFailed, "CUDA initialisation failed: unknown CUDA error (12345)"), probe);
    }

    [Fact]
    public void AFailingDeviceCountIsAnInitialisationFailureNamingTheCall()
    {
        var probe = IlgpuDevices.Probe(new ScriptedDriver { CountResult = 100 });
        Assert.Equal(new CudaProbe(0, CudaProblem.InitializationFailed, "CUDA initialisation failed: cuDeviceGetCount: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected"), probe);
    }

    [Fact]
    public void AMissingEntryPointIsAnInitialisationFailure()
    {
        var probe = IlgpuDevices.Probe(new ScriptedDriver { MissingInit = true });
        Assert.Equal(new CudaProbe(0, CudaProblem.InitializationFailed, "CUDA initialisation failed: scripted-libcuda does not export cuInit"), probe);
    }

    [Fact]
    public void AWorkingDriverReportsItsDevices()
    {
        Assert.Equal(new CudaProbe(2, CudaProblem.None, null), IlgpuDevices.Probe(new ScriptedDriver { Devices = 2 }));
        Assert.Equal(new CudaProbe(0, CudaProblem.None, "the CUDA driver (scripted-libcuda) reports no device"), IlgpuDevices.Probe(new ScriptedDriver { Devices = 0 }));
    }

    [NeedsCCompilerFact]
    public void TheNativeCallsReadAFailingDriverLibrary()
    {
        var library = FakeLibcuda.Build(_folder, "libfakecuda-failing.so", initResult: 100);
        Assert.Equal(new CudaProbe(0, CudaProblem.InitializationFailed, NoDevice), IlgpuDevices.Probe(LibCuda.Open(["/nonexistent/libcuda.so", library])));
    }

    [NeedsCCompilerFact]
    public void TheNativeCallsReadAWorkingDriverLibrary()
    {
        var library = FakeLibcuda.Build(_folder, "libfakecuda-working.so", initResult: 0, deviceCount: 3);
        Assert.Equal(new CudaProbe(3, CudaProblem.None, null), IlgpuDevices.Probe(LibCuda.Open([library])));
    }

    /// <summary>A driver whose results the test sets; it knows the name and text of error 100 only, like the stand-in library.</summary>
    private sealed class ScriptedDriver : ICudaDriver
    {
        public int InitResult { get; init; }
        public int CountResult { get; init; }
        public int Devices { get; init; } = 1;
        public bool MissingInit { get; init; }
        public int CountCalls { get; private set; }

        public string Library => "scripted-libcuda";

        public int Init() => MissingInit ? throw new EntryPointNotFoundException($"{Library} does not export cuInit") : InitResult;

        public int GetDeviceCount(out int count)
        {
            CountCalls++;
            count = CountResult == 0 ? Devices : 0;
            return CountResult;
        }

        public string? ErrorName(int result) => result == 100 ? "CUDA_ERROR_NO_DEVICE" : null;

        public string? ErrorString(int result) => result == 100 ? "no CUDA-capable device is detected" : null;
    }
}
