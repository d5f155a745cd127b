using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Every kernel of the forward pass, compiled and loaded once per accelerator (at runner start, on the device
/// thread). Generic kernels are instantiated for each weight format; the KV kernels live in <see cref="DeviceKvCache"/>,
/// instantiated for the pool's format only.
/// </summary>
internal sealed class KernelSet
{
    public KernelSet(Accelerator a)
    {
        GemvF32 = a.LoadStreamKernel<F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        GemvF16 = a.LoadStreamKernel<F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        GemvQ8 = a.LoadStreamKernel<Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        TiledF32 = a.LoadStreamKernel<F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledF16 = a.LoadStreamKernel<F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledQ8 = a.LoadStreamKernel<Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        EmbedF32 = a.LoadAutoGroupedStreamKernel<Index1D, F32Rows, ArrayView<int>, ArrayView<float>, int>(EmbeddingKernel.Kernel);
        EmbedF16 = a.LoadAutoGroupedStreamKernel<Index1D, F16Rows, ArrayView<int>, ArrayView<float>, int>(EmbeddingKernel.Kernel);
        EmbedQ8 = a.LoadAutoGroupedStreamKernel<Index1D, Q8Rows, ArrayView<int>, ArrayView<float>, int>(EmbeddingKernel.Kernel);
        RmsNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, RmsNormArgs>(RmsNormKernel.Kernel);
        AttentionReduce = a.LoadStreamKernel<ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(AttentionReduceKernel.Kernel);
        SwiGlu = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(SwiGluKernel.Kernel);
    }

    public Action<KernelConfig, F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvF32 { get; }
    public Action<KernelConfig, F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvF16 { get; }
    public Action<KernelConfig, Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvQ8 { get; }
    public Action<KernelConfig, F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledF32 { get; }
    public Action<KernelConfig, F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledF16 { get; }
    public Action<KernelConfig, Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledQ8 { get; }
    public Action<Index1D, F32Rows, ArrayView<int>, ArrayView<float>, int> EmbedF32 { get; }
    public Action<Index1D, F16Rows, ArrayView<int>, ArrayView<float>, int> EmbedF16 { get; }
    public Action<Index1D, Q8Rows, ArrayView<int>, ArrayView<float>, int> EmbedQ8 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, RmsNormArgs> RmsNorm { get; }
    public Action<KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs> AttentionReduce { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> SwiGlu { get; }

    /// <summary>Every kernel entry point with whether it is explicitly grouped (for ahead-of-time PTX checks).</summary>
    public static IEnumerable<(MethodInfo Method, bool ExplicitlyGrouped)> EntryPoints()
    {
        var formats = new[] { typeof(F32Rows), typeof(F16Rows), typeof(Q8Rows) };
        foreach (var f in formats)
        {
            yield return (Generic(typeof(GemvKernel), f), true);
            yield return (Generic(typeof(TiledMatMulKernel), f), true);
            yield return (Generic(typeof(EmbeddingKernel), f), false);
        }
        yield return (Plain(typeof(RmsNormKernel)), true);
        yield return (Plain(typeof(AttentionReduceKernel)), true);
        yield return (Plain(typeof(SwiGluKernel)), false);
        foreach (var e in DeviceKvCache.EntryPoints()) yield return e;
    }

    private static MethodInfo Plain(Type t) => t.GetMethod("Kernel")!;

    private static MethodInfo Generic(Type t, Type format) => t.GetMethod("Kernel")!.MakeGenericMethod(format);
}
