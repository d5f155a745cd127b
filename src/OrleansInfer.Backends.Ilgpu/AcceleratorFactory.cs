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
            Accelerator accelerator = o.Device switch
            {
                IlgpuDevice.Cpu => cpu.CreateCPUAccelerator(context),
                _ when o.CudaDeviceIndex < cudaDevices.Count => cudaDevices[o.CudaDeviceIndex].CreateAccelerator(context),
                IlgpuDevice.Cuda => throw new InvalidOperationException(cudaDevices.Count == 0
                    ? "no CUDA device found (is the NVIDIA driver installed?); use the CPU accelerator or the CPU backend"
                    : $"CUDA device {o.CudaDeviceIndex} does not exist ({cudaDevices.Count} found)"),
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

/// <summary>What accelerators this machine has, for hosts that start one worker per device.</summary>
public static class IlgpuDevices
{
    /// <summary>CUDA devices ILGPU can drive here (0 without a driver or a GPU).</summary>
    public static int CudaDeviceCount()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return 0;
        }
    }
}
