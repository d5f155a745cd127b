namespace OrleansInfer.Backends.Ilgpu;

/// <summary>Why a machine offers no CUDA device to ILGPU.</summary>
public enum CudaProblem
{
    /// <summary>The driver initialised (it may still report no device).</summary>
    None,

    /// <summary>No CUDA driver library could be loaded: an ordinary CPU machine.</summary>
    NoDriver,

    /// <summary>The driver is installed but does not work here (<c>cuInit</c> or <c>cuDeviceGetCount</c> failed).</summary>
    InitializationFailed,
}

/// <summary>
/// What the CUDA driver says about this machine. <see cref="Detail"/> says why there is no device to use
/// ("CUDA initialisation failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected"); it is null
/// when <see cref="DeviceCount"/> is above 0.
/// </summary>
public sealed record CudaProbe(int DeviceCount, CudaProblem Problem, string? Detail);

/// <summary>The CUDA driver is present but failed to initialise, so ILGPU cannot use the GPU (and must not silently emulate it).</summary>
public sealed class CudaInitializationException(string message, CudaProbe probe) : Exception(message)
{
    public CudaProbe Probe { get; } = probe;
}
