using OrleansInfer.GpuCheck;
using Xunit.Abstractions;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>One CPU accelerator with 32-thread warps (like CUDA) and every kernel loaded, shared by the kernel tests.</summary>
public sealed class KernelFixture : IDisposable
{
    public KernelHarness Harness { get; } = new(IlgpuDevice.Cpu);

    public void Dispose() => Harness.Dispose();
}

/// <summary>
/// Every kernel on fresh random inputs against double precision, on the emulator with CUDA's warp size: matmuls
/// in f32, f16 and q8_0 with M &lt; K, odd K and N, all epilogues; attention over sequences crossing block
/// boundaries with GQA ratios 1, 2 and 4, with and without flash-decoding splits; the row kernels; block copies.
/// </summary>
public sealed class KernelTests(KernelFixture fixture, ITestOutputHelper output) : IClassFixture<KernelFixture>
{
    public static TheoryData<string> Checks()
    {
        var data = new TheoryData<string>();
        foreach (var (kernel, _, _) in KernelStep.All(large: false)) data.Add(kernel);
        return data;
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public void MatchesDoublePrecision(string kernel)
    {
        var (_, shape, check) = KernelStep.All(large: false).Single(c => c.Kernel == kernel);
        var error = check(fixture.Harness);
        fixture.Harness.Reset();
        output.WriteLine($"{kernel} ({shape}): relative error {error:E2}");
        Assert.True(error < KernelStep.Tolerance, $"{kernel} ({shape}): relative error {error:E2}");
    }

    [Fact]
    public void TheEmulatorRunsCudaSizedWarps() => Assert.Equal(32, fixture.Harness.Accelerator.WarpSize);
}
