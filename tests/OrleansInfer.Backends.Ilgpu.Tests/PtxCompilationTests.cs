using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using OrleansInfer.Backends.Ilgpu.Kernels;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>Every kernel compiles to PTX for SM_90 without a GPU, so a kernel the CUDA backend rejects fails CI here.</summary>
public sealed class PtxCompilationTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var (m, _) in KernelSet.EntryPoints()) data.Add(Name(m));
        return data;
    }

    private static string Name(System.Reflection.MethodInfo m) =>
        m.DeclaringType!.Name + (m.Name == "Kernel" ? "" : "." + m.Name) + (m.IsGenericMethod ? "<" + m.GetGenericArguments()[0].Name + ">" : "");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForSm90(string kernel)
    {
        var (method, grouped) = KernelSet.EntryPoints().Single(e => Name(e.Method) == kernel);
        var ptx = PtxFor(method, grouped);
        Assert.Contains(".entry", ptx);
        Assert.Contains(".target sm_", ptx);
    }

    [Fact]
    public void TheF16DecodeKernelLoadsWeights16BytesAtATime()
    {
        var (method, grouped) = KernelSet.EntryPoints().Single(e => Name(e.Method) == "GemvKernel<F16Rows>");
        var ptx = PtxFor(method, grouped);
        Assert.Contains("ld.global.v4", ptx);
        Assert.DoesNotContain(".local", ptx); // accumulators stay in registers
    }

    [Theory]
    [InlineData("Q40Rows")]
    [InlineData("Q4KRows")]
    [InlineData("Q6KRows")]
    public void ThePackedDecodeKernelsLoad32WeightsPerLaneIn16Bytes(string format)
    {
        var (method, grouped) = KernelSet.EntryPoints().Single(e => Name(e.Method) == $"GemvKernel.Packed<{format}>");
        var ptx = PtxFor(method, grouped);
        Assert.Contains("ld.global.v4.b32", ptx); // 32 nibbles
        if (format == "Q6KRows") Assert.Contains("ld.global.v2.b32", ptx); // their 32 pairs of high bits
        Assert.DoesNotContain(".local", ptx);
    }

    [Theory]
    [InlineData("Q40Rows")]
    [InlineData("Q4KRows")]
    [InlineData("Q6KRows")]
    [InlineData("F16Rows")]
    public void TheTiledKernelStagesEightWeightsPerLoad(string format)
    {
        var (method, grouped) = KernelSet.EntryPoints().Single(e => Name(e.Method) == $"TiledMatMulKernel<{format}>");
        var ptx = PtxFor(method, grouped);
        Assert.Contains(format == "F16Rows" ? "ld.global.v4.b32" : "ld.global.b32", ptx); // 8 f16 or 8 nibbles
        Assert.DoesNotContain(".local", ptx);
    }

    internal static string PtxFor(System.Reflection.MethodInfo method, bool explicitlyGrouped)
    {
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = explicitlyGrouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }
}
