using ILGPU;
using ILGPU.Runtime;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>
/// Launches of the weight-format-generic kernels for a <see cref="DeviceMatrix"/>, by its format (a
/// <see cref="WeightFormat.Mixed"/> stack is launched segment by segment by the caller).
/// </summary>
internal sealed partial class KernelSet
{
    /// <summary>The decode kernel: <see cref="GemvKernel.Kernel{TW}"/>, or <see cref="GemvKernel.Packed{TW}"/> for the packed formats.</summary>
    public void Gemv(KernelConfig config, DeviceMatrix w, ArrayView<float> x, ArrayView<float> y, MatMulArgs args)
    {
        args.GeluTable = _gelu.View;
        switch (w.Format)
        {
            case WeightFormat.F32: GemvF32(config, w.F32, x, y, args); break;
            case WeightFormat.F16: GemvF16(config, w.F16, x, y, args); break;
            case WeightFormat.Q8_0: GemvQ8(config, w.Q8, x, y, args); break;
            case WeightFormat.Q4_0: GemvQ40(config, w.Q40, x, y, args); break;
            case WeightFormat.Q4_K: GemvQ4K(config, w.Q4K, x, y, args); break;
            case WeightFormat.Q6_K: GemvQ6K(config, w.Q6K, x, y, args); break;
            default: throw Unlaunchable(w);
        }
    }

    public void Tiled(KernelConfig config, DeviceMatrix w, ArrayView<float> x, ArrayView<float> y, MatMulArgs args)
    {
        args.GeluTable = _gelu.View;
        switch (w.Format)
        {
            case WeightFormat.F32: TiledF32(config, w.F32, x, y, args); break;
            case WeightFormat.F16: TiledF16(config, w.F16, x, y, args); break;
            case WeightFormat.Q8_0: TiledQ8(config, w.Q8, x, y, args); break;
            case WeightFormat.Q4_0: TiledQ40(config, w.Q40, x, y, args); break;
            case WeightFormat.Q4_K: TiledQ4K(config, w.Q4K, x, y, args); break;
            case WeightFormat.Q6_K: TiledQ6K(config, w.Q6K, x, y, args); break;
            default: throw Unlaunchable(w);
        }
    }

    public void Embed(Index1D count, DeviceMatrix w, ArrayView<int> tokens, ArrayView<float> x, int dim, float scale)
    {
        switch (w.Format)
        {
            case WeightFormat.F32: EmbedF32(count, w.F32, tokens, x, dim, scale); break;
            case WeightFormat.F16: EmbedF16(count, w.F16, tokens, x, dim, scale); break;
            case WeightFormat.Q8_0: EmbedQ8(count, w.Q8, tokens, x, dim, scale); break;
            case WeightFormat.Q4_0: EmbedQ40(count, w.Q40, tokens, x, dim, scale); break;
            case WeightFormat.Q4_K: EmbedQ4K(count, w.Q4K, tokens, x, dim, scale); break;
            case WeightFormat.Q6_K: EmbedQ6K(count, w.Q6K, tokens, x, dim, scale); break;
            default: throw Unlaunchable(w);
        }
    }

    private static InvalidOperationException Unlaunchable(DeviceMatrix w) =>
        new($"a {w.Format} matrix is launched per segment, not as one ({w.Rows} x {w.Cols})");
}
