using ILGPU;
using ILGPU.Runtime;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>Launches of the weight-format-generic kernels for a <see cref="DeviceMatrix"/>, by its format.</summary>
internal sealed partial class KernelSet
{
    /// <summary>The decode kernel: <see cref="GemvKernel.Kernel{TW}"/>, or <see cref="GemvKernel.Packed{TW}"/> for the packed formats.</summary>
    public void Gemv(KernelConfig config, DeviceMatrix w, ArrayView<float> x, ArrayView<float> y, MatMulArgs args)
    {
        switch (w.Format)
        {
            case WeightFormat.F32: GemvF32(config, w.F32, x, y, args); break;
            case WeightFormat.F16: GemvF16(config, w.F16, x, y, args); break;
            case WeightFormat.Q8_0: GemvQ8(config, w.Q8, x, y, args); break;
            case WeightFormat.Q4_0: GemvQ40(config, w.Q40, x, y, args); break;
            case WeightFormat.Q4_K: GemvQ4K(config, w.Q4K, x, y, args); break;
            default: GemvQ6K(config, w.Q6K, x, y, args); break;
        }
    }

    public void Tiled(KernelConfig config, DeviceMatrix w, ArrayView<float> x, ArrayView<float> y, MatMulArgs args)
    {
        switch (w.Format)
        {
            case WeightFormat.F32: TiledF32(config, w.F32, x, y, args); break;
            case WeightFormat.F16: TiledF16(config, w.F16, x, y, args); break;
            case WeightFormat.Q8_0: TiledQ8(config, w.Q8, x, y, args); break;
            case WeightFormat.Q4_0: TiledQ40(config, w.Q40, x, y, args); break;
            case WeightFormat.Q4_K: TiledQ4K(config, w.Q4K, x, y, args); break;
            default: TiledQ6K(config, w.Q6K, x, y, args); break;
        }
    }

    public void Embed(Index1D count, DeviceMatrix w, ArrayView<int> tokens, ArrayView<float> x, int dim)
    {
        switch (w.Format)
        {
            case WeightFormat.F32: EmbedF32(count, w.F32, tokens, x, dim); break;
            case WeightFormat.F16: EmbedF16(count, w.F16, tokens, x, dim); break;
            case WeightFormat.Q8_0: EmbedQ8(count, w.Q8, tokens, x, dim); break;
            case WeightFormat.Q4_0: EmbedQ40(count, w.Q40, tokens, x, dim); break;
            case WeightFormat.Q4_K: EmbedQ4K(count, w.Q4K, tokens, x, dim); break;
            default: EmbedQ6K(count, w.Q6K, tokens, x, dim); break;
        }
    }
}
