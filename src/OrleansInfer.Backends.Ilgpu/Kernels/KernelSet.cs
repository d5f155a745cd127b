using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Every kernel of the forward pass, compiled and loaded once per accelerator (at runner start, on the device
/// thread). Generic kernels are instantiated for each weight format; the KV kernels live in <see cref="DeviceKvCache"/>,
/// instantiated for the pool's format only.
/// </summary>
internal sealed partial class KernelSet : IDisposable
{
    // ggml's GELU table on the device, passed to every matmul launch and to the gate kernel.
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _gelu;

    public KernelSet(Accelerator a)
    {
        _gelu = a.Allocate1D(OrleansInfer.Model.GgmlGelu.Table.ToArray());
        GemvF32 = a.LoadStreamKernel<F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        GemvF16 = a.LoadStreamKernel<F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        GemvQ8 = a.LoadStreamKernel<Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Kernel);
        GemvQ40 = a.LoadStreamKernel<Q40Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Packed);
        GemvQ4K = a.LoadStreamKernel<Q4KRows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Packed);
        GemvQ6K = a.LoadStreamKernel<Q6KRows, ArrayView<float>, ArrayView<float>, MatMulArgs>(GemvKernel.Packed);
        TiledF32 = a.LoadStreamKernel<F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledF16 = a.LoadStreamKernel<F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledQ8 = a.LoadStreamKernel<Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledQ40 = a.LoadStreamKernel<Q40Rows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledQ4K = a.LoadStreamKernel<Q4KRows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        TiledQ6K = a.LoadStreamKernel<Q6KRows, ArrayView<float>, ArrayView<float>, MatMulArgs>(TiledMatMulKernel.Kernel);
        EmbedF32 = a.LoadAutoGroupedStreamKernel<Index1D, F32Rows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        EmbedF16 = a.LoadAutoGroupedStreamKernel<Index1D, F16Rows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        EmbedQ8 = a.LoadAutoGroupedStreamKernel<Index1D, Q8Rows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        EmbedQ40 = a.LoadAutoGroupedStreamKernel<Index1D, Q40Rows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        EmbedQ4K = a.LoadAutoGroupedStreamKernel<Index1D, Q4KRows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        EmbedQ6K = a.LoadAutoGroupedStreamKernel<Index1D, Q6KRows, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Kernel);
        RmsNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, RmsNormArgs>(RmsNormKernel.Kernel);
        AttentionReduce = a.LoadStreamKernel<ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(AttentionReduceKernel.Kernel);
        _swiGlu = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, MatMulMode, ArrayView<float>>(SwiGluKernel.Kernel);
        HeadNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadNormArgs>(HeadNormKernel.Kernel);
        BiasAdd = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(BiasAddKernel.Kernel);
        Softcap = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float, float>(SoftcapKernel.Kernel);
    }

    public Action<KernelConfig, F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvF32 { get; }
    public Action<KernelConfig, F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvF16 { get; }
    public Action<KernelConfig, Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvQ8 { get; }
    public Action<KernelConfig, Q40Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvQ40 { get; }
    public Action<KernelConfig, Q4KRows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvQ4K { get; }
    public Action<KernelConfig, Q6KRows, ArrayView<float>, ArrayView<float>, MatMulArgs> GemvQ6K { get; }
    public Action<KernelConfig, F32Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledF32 { get; }
    public Action<KernelConfig, F16Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledF16 { get; }
    public Action<KernelConfig, Q8Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledQ8 { get; }
    public Action<KernelConfig, Q40Rows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledQ40 { get; }
    public Action<KernelConfig, Q4KRows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledQ4K { get; }
    public Action<KernelConfig, Q6KRows, ArrayView<float>, ArrayView<float>, MatMulArgs> TiledQ6K { get; }
    public Action<Index1D, F32Rows, ArrayView<int>, ArrayView<float>, int, float> EmbedF32 { get; }
    public Action<Index1D, F16Rows, ArrayView<int>, ArrayView<float>, int, float> EmbedF16 { get; }
    public Action<Index1D, Q8Rows, ArrayView<int>, ArrayView<float>, int, float> EmbedQ8 { get; }
    public Action<Index1D, Q40Rows, ArrayView<int>, ArrayView<float>, int, float> EmbedQ40 { get; }
    public Action<Index1D, Q4KRows, ArrayView<int>, ArrayView<float>, int, float> EmbedQ4K { get; }
    public Action<Index1D, Q6KRows, ArrayView<int>, ArrayView<float>, int, float> EmbedQ6K { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, RmsNormArgs> RmsNorm { get; }
    public Action<KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs> AttentionReduce { get; }
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, MatMulMode, ArrayView<float>> _swiGlu;
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadNormArgs> HeadNorm { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> BiasAdd { get; }
    public Action<Index1D, ArrayView<float>, float, float> Softcap { get; }

    /// <summary>Device bytes of the GELU table.</summary>
    public long Bytes => _gelu.LengthInBytes;

    /// <summary>Hb = act(gate) * up after a prefill-shaped W1 | W3 product (<see cref="SwiGluKernel"/>).</summary>
    public void SwiGlu(Index1D count, ArrayView<float> h13, ArrayView<float> hb, int hidden, MatMulMode mode) => _swiGlu(count, h13, hb, hidden, mode, _gelu.View);

    public void Dispose() => _gelu.Dispose();

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
        foreach (var f in new[] { typeof(Q40Rows), typeof(Q4KRows), typeof(Q6KRows) })
        {
            yield return (Generic(typeof(GemvKernel), f, nameof(GemvKernel.Packed)), true);
            yield return (Generic(typeof(TiledMatMulKernel), f), true);
            yield return (Generic(typeof(EmbeddingKernel), f), false);
        }
        yield return (Plain(typeof(RmsNormKernel)), true);
        yield return (Plain(typeof(AttentionReduceKernel)), true);
        yield return (Plain(typeof(SwiGluKernel)), false);
        yield return (Plain(typeof(HeadNormKernel)), true);
        yield return (Plain(typeof(BiasAddKernel)), false);
        yield return (Plain(typeof(SoftcapKernel)), false);
        foreach (var e in DeviceKvCache.EntryPoints()) yield return e;
    }

    private static MethodInfo Plain(Type t) => t.GetMethod("Kernel")!;

    private static MethodInfo Generic(Type t, Type format, string name = "Kernel") => t.GetMethod(name)!.MakeGenericMethod(format);
}
