namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>Runner options for ILGPU's CPU accelerator in the whole-model tests.</summary>
internal static class CpuAccelerator
{
    /// <summary>
    /// Whole-model runs use 4-thread warps: the kernels are warp-size agnostic, and on the emulator every shuffle
    /// is a barrier of OS threads, so 32-thread warps make a 64-token run take many minutes. The kernel tests
    /// (<see cref="KernelHarness"/>) use 32-thread warps like CUDA.
    /// </summary>
    public static IlgpuRunnerOptions Options(int kvBlocks = 32, int blockSize = 16, int maxBatchTokens = 128, int splitLength = 256, int warpSize = 4) => new()
    {
        Device = IlgpuDevice.Cpu,
        KvBlocks = kvBlocks,
        BlockSize = blockSize,
        MaxBatchTokens = maxBatchTokens,
        MaxBatchSequences = 16,
        AttentionSplitLength = splitLength,
        CpuMultiprocessors = 2,
        CpuWarpSize = warpSize,
    };
}
