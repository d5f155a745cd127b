namespace OrleansInfer.Backends.Ilgpu;

/// <summary>Which ILGPU accelerator runs the model.</summary>
public enum IlgpuDevice
{
    /// <summary>CUDA when a CUDA device is present, else (no CUDA driver at all) ILGPU's CPU accelerator; a driver that fails to initialise is an error.</summary>
    Auto,
    Cuda,

    /// <summary>ILGPU's CPU accelerator (an emulator with 32-thread warps like CUDA): for tests and when asked.</summary>
    Cpu,
}

/// <summary>Device choice, KV pool sizing and activation limits of the ILGPU runner.</summary>
public sealed record IlgpuRunnerOptions
{
    public IlgpuDevice Device { get; init; } = IlgpuDevice.Auto;

    /// <summary>Which CUDA device when several are present.</summary>
    public int CudaDeviceIndex { get; init; }

    /// <summary>Token slots per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV blocks to allocate; when null, sized from the device memory left (CUDA) or <see cref="KvCacheBytes"/> (CPU accelerator).</summary>
    public int? KvBlocks { get; init; }

    /// <summary>Fraction of the CUDA device's free memory (after weights and activations are placed) given to the KV pool.</summary>
    public double GpuMemoryUtilization { get; init; } = 0.9;

    /// <summary>KV budget on the CPU accelerator, and an upper bound on CUDA when set explicitly.</summary>
    public long? KvCacheBytes { get; init; }

    /// <summary>How keys and values are stored (f32 by default; f16 halves the pool's bytes per token).</summary>
    public OrleansInfer.Engine.Runner.KvCacheDataType KvCacheDataType { get; init; } = OrleansInfer.Engine.Runner.KvCacheDataType.F32;

    /// <summary>Most tokens per forward pass (prompt chunks plus decodes).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most sequences per forward pass.</summary>
    public int MaxBatchSequences { get; init; } = 256;

    /// <summary>Multiprocessors of the emulated CPU device (each runs its groups' threads as OS threads).</summary>
    public int CpuMultiprocessors { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Warp size of the emulated CPU device. The kernels are warp-size agnostic; the kernel tests use 32 like CUDA,
    /// while whole-model runs default to 4 because every emulated shuffle is a barrier of OS threads (32-thread
    /// warps make a stories260K decode step take seconds).
    /// </summary>
    public int CpuWarpSize { get; init; } = 4;

    /// <summary>Fewest positions per flash-decoding split (a multiple of 32); decode over longer contexts is split across warps.</summary>
    public int AttentionSplitLength { get; init; } = 256;

    /// <summary>Default KV budget on the CPU accelerator.</summary>
    public const long DefaultCpuKvCacheBytes = 256L << 20;

    public void Validate()
    {
        if (BlockSize < 1 || BlockSize > 1024) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "block size must be 1..1024");
        if (KvBlocks is < 1) throw new ArgumentOutOfRangeException(nameof(KvBlocks), KvBlocks, "KV blocks must be at least 1");
        if (KvCacheBytes is < 1) throw new ArgumentOutOfRangeException(nameof(KvCacheBytes), KvCacheBytes, "KV cache bytes must be positive");
        if (!(GpuMemoryUtilization > 0 && GpuMemoryUtilization <= 1)) throw new ArgumentOutOfRangeException(nameof(GpuMemoryUtilization), GpuMemoryUtilization, "GPU memory utilization must be in (0, 1]");
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "max batch tokens must be at least 1");
        if (MaxBatchSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSequences), MaxBatchSequences, "max batch sequences must be at least 1");
        if (AttentionSplitLength < 32 || AttentionSplitLength % 32 != 0) throw new ArgumentOutOfRangeException(nameof(AttentionSplitLength), AttentionSplitLength, "attention split length must be a positive multiple of 32");
        if (CpuWarpSize < 2 || CpuWarpSize > 32 || (CpuWarpSize & (CpuWarpSize - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(CpuWarpSize), CpuWarpSize, "CPU warp size must be a power of two in 2..32");
        if (CpuMultiprocessors < 1) throw new ArgumentOutOfRangeException(nameof(CpuMultiprocessors), CpuMultiprocessors, "CPU multiprocessors must be at least 1");
    }
}
