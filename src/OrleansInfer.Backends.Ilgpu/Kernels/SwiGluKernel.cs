using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>Hb[t, j] = act(H13[t, j]) * H13[t, hidden + j] (SiLU or GELU by the mode): the gate after a prefill-shaped W1/W3 product.</summary>
public static class SwiGluKernel
{
    public static void Kernel(Index1D index, ArrayView<float> h13, ArrayView<float> hb, int hidden, MatMulMode mode, ArrayView<float> geluTable)
    {
        int i = index;
        var t = i / hidden;
        var j = i - t * hidden;
        var g = h13[2L * t * hidden + j];
        var u = h13[2L * t * hidden + hidden + j];
        hb[i] = Activations.Gate(mode, g, u, geluTable);
    }
}
