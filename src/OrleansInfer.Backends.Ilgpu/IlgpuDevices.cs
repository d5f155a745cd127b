namespace OrleansInfer.Backends.Ilgpu;

/// <summary>What accelerators this machine has, for hosts that start one worker per device.</summary>
public static class IlgpuDevices
{
    private static readonly Lazy<CudaProbe> Machine = new(() => Probe(LibCuda.Open(LibCuda.DefaultNames)));

    /// <summary>CUDA devices the driver reports here (0 without a working driver or a GPU; <see cref="Probe()"/> says why).</summary>
    public static int CudaDeviceCount() => Probe().DeviceCount;

    /// <summary>
    /// Asks the CUDA driver itself (once per process): how many devices, or why none. ILGPU lists no CUDA device
    /// both when there is no driver and when <c>cuInit</c> fails; this tells the two apart.
    /// </summary>
    public static CudaProbe Probe() => Machine.Value;

    /// <summary>The probe over <paramref name="driver"/>; null means no driver library could be loaded.</summary>
    internal static CudaProbe Probe(ICudaDriver? driver)
    {
        if (driver is null) return new CudaProbe(0, CudaProblem.NoDriver, $"no CUDA driver: none of {string.Join(", ", LibCuda.DefaultNames)} could be loaded");
        try
        {
            var init = driver.Init();
            if (init != 0) return Failed(driver, "", init);
            var result = driver.GetDeviceCount(out var count);
            if (result != 0) return Failed(driver, "cuDeviceGetCount: ", result);
            return count > 0
                ? new CudaProbe(count, CudaProblem.None, null)
                : new CudaProbe(0, CudaProblem.None, $"the CUDA driver ({driver.Library}) reports no device");
        }
        catch (EntryPointNotFoundException e)
        {
            return new CudaProbe(0, CudaProblem.InitializationFailed, $"CUDA initialisation failed: {e.Message}");
        }
    }

    private static CudaProbe Failed(ICudaDriver driver, string call, int result)
    {
        var name = driver.ErrorName(result) ?? "unknown CUDA error";
        var text = driver.ErrorString(result);
        var detail = text is null ? $"{name} ({result})" : $"{name} ({result}): {text}";
        return new CudaProbe(0, CudaProblem.InitializationFailed, $"CUDA initialisation failed: {call}{detail}");
    }
}
