using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>Creates the ILGPU context and picks the accelerator: CUDA when present (or demanded), else the CPU emulator.</summary>
internal static class AcceleratorFactory
{
    /// <summary>Threads per emulated multiprocessor: the largest group (the tiled matmul's 256).</summary>
    private const int CpuThreadsPerMultiprocessor = 256;

    private static int _libcudaResolver;

    public static (Context Context, Accelerator Accelerator) Create(IlgpuRunnerOptions o)
    {
        UseVersionedLibcuda();
        var cpu = CpuDevice(o.CpuWarpSize, o.CpuMultiprocessors);
        var context = Context.Create(b => b.Cuda().CPU(cpu).Optimize(OptimizationLevel.O2).EnableAlgorithms());
        try
        {
            var cudaDevices = context.GetCudaDevices();
            if (o.Device != IlgpuDevice.Cpu && cudaDevices.Count == 0) ExplainNoCudaDevice(o.Device);
            Accelerator accelerator = o.Device switch
            {
                IlgpuDevice.Cpu => cpu.CreateCPUAccelerator(context),
                _ when o.CudaDeviceIndex < cudaDevices.Count => cudaDevices[o.CudaDeviceIndex].CreateAccelerator(context),
                IlgpuDevice.Cuda => throw new InvalidOperationException($"CUDA device {o.CudaDeviceIndex} does not exist ({cudaDevices.Count} found)"),
                _ => cpu.CreateCPUAccelerator(context),
            };
            return (context, accelerator);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// ILGPU found no CUDA device: only a machine without a CUDA driver may fall back to the emulator
    /// (<see cref="IlgpuDevice.Auto"/>); a driver that fails to initialise, or one whose devices ILGPU does not
    /// see, is an error, and so is <see cref="IlgpuDevice.Cuda"/> without a device.
    /// </summary>
    private static void ExplainNoCudaDevice(IlgpuDevice device)
    {
        var cuda = IlgpuDevices.Probe();
        if (cuda.Problem == CudaProblem.InitializationFailed) throw new CudaInitializationException(cuda.Detail!, cuda);
        if (cuda.DeviceCount > 0) throw new InvalidOperationException($"the CUDA driver reports {cuda.DeviceCount} device(s) but ILGPU found none");
        if (device == IlgpuDevice.Cuda) throw new InvalidOperationException($"no CUDA device found ({cuda.Detail}); use the CPU accelerator or the CPU backend");
    }

    /// <summary>
    /// ILGPU imports the CUDA driver as "cuda", which .NET resolves to libcuda.so only; driver installs (and GPU
    /// containers) often provide just libcuda.so.1. Try both (Linux, not WSL, where ILGPU has its own resolver).
    /// </summary>
    private static void UseVersionedLibcuda()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _libcudaResolver, 1) == 1) return;
        if (File.Exists("/proc/version") && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase)) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, (name, assembly, path) =>
                name == "cuda" && (NativeLibrary.TryLoad("libcuda.so", assembly, path, out var handle) || NativeLibrary.TryLoad("libcuda.so.1", assembly, path, out handle))
                    ? handle
                    : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set for ILGPU (by ILGPU or the host): keep it.
        }
    }

    /// <summary>The emulated device, with CUDA's 32-thread warps by default (ILGPU's default CPU device has 4-thread warps).</summary>
    public static CPUDevice CpuDevice(int warpSize, int multiprocessors) => new(warpSize, CpuThreadsPerMultiprocessor / warpSize, multiprocessors);

    /// <summary>"NVIDIA H100 80GB HBM3 (CUDA, 79.1 GiB, sm_90)" or "ILGPU CPU accelerator (2 multiprocessors, 32-thread warps)".</summary>
    public static string Describe(Accelerator a) => a switch
    {
        CudaAccelerator c => $"{c.Name} (CUDA, {c.MemorySize / (double)(1L << 30):F1} GiB, {c.Architecture})",
        _ => $"ILGPU CPU accelerator ({a.NumMultiprocessors} multiprocessors, {a.WarpSize}-thread warps)",
    };
}
