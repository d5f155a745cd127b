using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>X[t, i] = TokenEmbedding[tokens[t], i] * scale (1, or gemma's sqrt(dim)), widened to f32 from any weight format.</summary>
public static class EmbeddingKernel
{
    public static void Kernel<TW>(Index1D index, TW w, ArrayView<int> tokens, ArrayView<float> x, int dim, float scale)
        where TW : struct, IWeightRows
    {
        int i = index;
        var t = i / dim;
        x[i] = w.Load(tokens[t], i - t * dim) * scale;
    }
}
