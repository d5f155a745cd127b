using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Backends.Ilgpu.Kernels;

namespace OrleansInfer.GpuCheck;

/// <summary>An accelerator with every kernel loaded: CUDA on the GPU machine, or the CPU emulator with 32-thread warps like CUDA.</summary>
public sealed class KernelHarness : IDisposable
{
    public KernelHarness(IlgpuDevice device = IlgpuDevice.Cpu)
    {
        (Context, Accelerator) = AcceleratorFactory.Create(new IlgpuRunnerOptions { Device = device, CpuMultiprocessors = 1, CpuWarpSize = 32 });
        Kernels = new KernelSet(Accelerator);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    internal KernelSet Kernels { get; }

    public string DeviceName => AcceleratorFactory.Describe(Accelerator);

    public ArrayView<float> Upload(float[] values) => Track(Accelerator.Allocate1D(values)).View;

    public ArrayView<int> Upload(int[] values) => Track(Accelerator.Allocate1D(values)).View;

    public float[] Read(ArrayView<float> view)
    {
        Accelerator.Synchronize();
        var result = new float[view.Length];
        view.CopyToCPU(ref result[0], view.Length);
        return result;
    }

    private readonly List<MemoryBuffer> _buffers = [];

    private T Track<T>(T buffer) where T : MemoryBuffer
    {
        _buffers.Add(buffer);
        return buffer;
    }

    /// <summary>Frees the buffers of earlier checks.</summary>
    public void Reset()
    {
        Accelerator.Synchronize();
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }

    public void Dispose()
    {
        Reset();
        Kernels.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}
