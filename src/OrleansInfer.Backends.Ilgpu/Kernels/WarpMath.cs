using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>Butterfly reductions across a warp (every lane gets the result), the building block of the row kernels.</summary>
public static class WarpMath
{
    public static float Sum(float v)
    {
        for (var offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) v += Warp.ShuffleXor(v, offset);
        return v;
    }

    public static float Max(float v)
    {
        for (var offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) v = MathF.Max(v, Warp.ShuffleXor(v, offset));
        return v;
    }

    /// <summary>Sum over the whole group (Group.DimX a multiple of the warp size, at most 32 warps); every thread gets it.</summary>
    public static float GroupSum(float v, ArrayView<float> scratch)
    {
        v = Sum(v);
        var warp = Group.IdxX / Warp.WarpSize;
        var warps = Group.DimX / Warp.WarpSize;
        if (Warp.LaneIdx == 0) scratch[warp] = v;
        Group.Barrier();
        var total = 0f;
        for (var w = 0; w < warps; w++) total += scratch[w];
        Group.Barrier();
        return total;
    }
}
