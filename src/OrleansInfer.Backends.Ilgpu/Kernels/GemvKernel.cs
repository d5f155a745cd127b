using ILGPU;

namespace OrleansInfer.Backends.Ilgpu.Kernels;

/// <summary>What a matrix product does with its result: store it, add it to Y (the residual), or gate it (SwiGLU).</summary>
public enum MatMulMode
{
    Store = 0,
    Add = 1,

    /// <summary>W holds W1's rows then W3's (2N rows); Y[m, n] = silu(x·W1[n]) * (x·W3[n]).</summary>
    SwiGlu = 2,

    /// <summary>As <see cref="SwiGlu"/> with GELU (tanh approximation, ggml's) instead of SiLU: gemma's GeGLU.</summary>
    GeGlu = 3,
}

/// <summary>
/// Y[m, n] (+)= X[m, :] · W[n, :] for decode shapes (a few activation rows). Bandwidth-bound by design: each warp owns
/// one weight row and streams it once with 16-byte loads (8 values per lane), applying it to all M activation rows
/// held in registers, then reduces across the warp with shuffles. No shared-memory tiling: with M this small the
/// weights are read once either way and tiling would only add barriers.
/// </summary>
public static class GemvKernel
{
    public const int MaxRows = 4;
    public const int WarpsPerGroup = 4;

    public static void Kernel<TW>(TW w, ArrayView<float> x, ArrayView<float> y, MatMulArgs a)
        where TW : struct, IWeightRows
    {
        // Grid-stride over rows (warp-uniform): CUDA launches a warp per row, the CPU emulator a few groups that loop.
        for (var n = Grid.IdxX * WarpsPerGroup + Group.IdxX / Warp.WarpSize; n < a.N; n += Grid.DimX * WarpsPerGroup) Row(w, x, y, a, n);
    }

    private static void Row<TW>(TW w, ArrayView<float> x, ArrayView<float> y, MatMulArgs a, int n)
        where TW : struct, IWeightRows
    {
        var lane = Warp.LaneIdx;
        var glu = a.Mode >= MatMulMode.SwiGlu;
        long x1 = a.Ldx, x2 = 2L * a.Ldx, x3 = 3L * a.Ldx;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;

        // Two 16-byte loads per lane in flight before the math (more bytes in flight per SM), then the odd chunk.
        var k8 = a.K & ~7;
        var chunk = Warp.WarpSize * 8;
        var k = lane * 8;
        for (; k + chunk < k8; k += 2 * chunk)
        {
            var w0 = w.Load8(n, k);
            var w1 = w.Load8(n, k + chunk);
            if (glu)
            {
                var g0 = w.Load8(n + a.N, k);
                var g1 = w.Load8(n + a.N, k + chunk);
                Accumulate(g0, x, k, a, ref u0, ref u1, ref u2, ref u3);
                Accumulate(g1, x, k + chunk, a, ref u0, ref u1, ref u2, ref u3);
            }
            Accumulate(w0, x, k, a, ref s0, ref s1, ref s2, ref s3);
            Accumulate(w1, x, k + chunk, a, ref s0, ref s1, ref s2, ref s3);
        }
        if (k < k8)
        {
            Accumulate(w.Load8(n, k), x, k, a, ref s0, ref s1, ref s2, ref s3);
            if (glu) Accumulate(w.Load8(n + a.N, k), x, k, a, ref u0, ref u1, ref u2, ref u3);
        }
        // Columns past the last multiple of 8 (odd hidden sizes such as 172).
        for (var c = k8 + lane; c < a.K; c += Warp.WarpSize)
        {
            var wk = w.Load(n, c);
            s0 += wk * x[c];
            if (a.M > 1) s1 += wk * x[x1 + c];
            if (a.M > 2) s2 += wk * x[x2 + c];
            if (a.M > 3) s3 += wk * x[x3 + c];
            if (glu)
            {
                var uk = w.Load(n + a.N, c);
                u0 += uk * x[c];
                if (a.M > 1) u1 += uk * x[x1 + c];
                if (a.M > 2) u2 += uk * x[x2 + c];
                if (a.M > 3) u3 += uk * x[x3 + c];
            }
        }

        Finish(y, a, n, glu, s0, s1, s2, s3, u0, u1, u2, u3);
    }

    /// <summary>
    /// The decode kernel for packed 4/6-bit formats (<see cref="IPackedWeightRows"/>): each lane takes 32 values per
    /// load step (one 16-byte load of nibbles, 8 more bytes of high bits for Q6_K, and the block's scales),
    /// dequantized 8 at a time in registers. K is a multiple of 32 (every packed row is whole blocks).
    /// </summary>
    public static void Packed<TW>(TW w, ArrayView<float> x, ArrayView<float> y, MatMulArgs a)
        where TW : struct, IPackedWeightRows
    {
        for (var n = Grid.IdxX * WarpsPerGroup + Group.IdxX / Warp.WarpSize; n < a.N; n += Grid.DimX * WarpsPerGroup) PackedRow(w, x, y, a, n);
    }

    private static void PackedRow<TW>(TW w, ArrayView<float> x, ArrayView<float> y, MatMulArgs a, int n)
        where TW : struct, IPackedWeightRows
    {
        var glu = a.Mode >= MatMulMode.SwiGlu;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
        var chunk = Warp.WarpSize * 32;
        var k = Warp.LaneIdx * 32;
        for (; k + chunk < a.K; k += 2 * chunk)
        {
            var w0 = w.Load32(n, k);
            var w1 = w.Load32(n, k + chunk);
            if (glu)
            {
                var g0 = w.Load32(n + a.N, k);
                var g1 = w.Load32(n + a.N, k + chunk);
                Accumulate32(g0, x, k, a, ref u0, ref u1, ref u2, ref u3);
                Accumulate32(g1, x, k + chunk, a, ref u0, ref u1, ref u2, ref u3);
            }
            Accumulate32(w0, x, k, a, ref s0, ref s1, ref s2, ref s3);
            Accumulate32(w1, x, k + chunk, a, ref s0, ref s1, ref s2, ref s3);
        }
        if (k < a.K)
        {
            Accumulate32(w.Load32(n, k), x, k, a, ref s0, ref s1, ref s2, ref s3);
            if (glu) Accumulate32(w.Load32(n + a.N, k), x, k, a, ref u0, ref u1, ref u2, ref u3);
        }
        Finish(y, a, n, glu, s0, s1, s2, s3, u0, u1, u2, u3);
    }

    private static void Accumulate32(Packed32 p, ArrayView<float> x, long k, MatMulArgs a, ref float s0, ref float s1, ref float s2, ref float s3)
    {
        Accumulate(p.Expand(0), x, k, a, ref s0, ref s1, ref s2, ref s3);
        Accumulate(p.Expand(1), x, k + 8, a, ref s0, ref s1, ref s2, ref s3);
        Accumulate(p.Expand(2), x, k + 16, a, ref s0, ref s1, ref s2, ref s3);
        Accumulate(p.Expand(3), x, k + 24, a, ref s0, ref s1, ref s2, ref s3);
    }

    /// <summary>Reduces each row's partial sums across the warp; lane 0 applies the epilogue.</summary>
    private static void Finish(ArrayView<float> y, MatMulArgs a, int n, bool glu, float s0, float s1, float s2, float s3, float u0, float u1, float u2, float u3)
    {
        var lane = Warp.LaneIdx;
        s0 = WarpMath.Sum(s0);
        if (glu) u0 = WarpMath.Sum(u0);
        if (lane == 0) Write(y, a, 0, n, s0, u0);
        if (a.M > 1)
        {
            s1 = WarpMath.Sum(s1);
            if (glu) u1 = WarpMath.Sum(u1);
            if (lane == 0) Write(y, a, 1, n, s1, u1);
        }
        if (a.M > 2)
        {
            s2 = WarpMath.Sum(s2);
            if (glu) u2 = WarpMath.Sum(u2);
            if (lane == 0) Write(y, a, 2, n, s2, u2);
        }
        if (a.M > 3)
        {
            s3 = WarpMath.Sum(s3);
            if (glu) u3 = WarpMath.Sum(u3);
            if (lane == 0) Write(y, a, 3, n, s3, u3);
        }
    }

    /// <summary>s_m += W chunk · X[m, k..k+8) for the step's M activation rows.</summary>
    private static void Accumulate(Vec8 wv, ArrayView<float> x, long k, MatMulArgs a, ref float s0, ref float s1, ref float s2, ref float s3)
    {
        s0 += Dot8(wv, x, k);
        if (a.M > 1) s1 += Dot8(wv, x, a.Ldx + k);
        if (a.M > 2) s2 += Dot8(wv, x, 2L * a.Ldx + k);
        if (a.M > 3) s3 += Dot8(wv, x, 3L * a.Ldx + k);
    }

    private static float Dot8(Vec8 w, ArrayView<float> x, long at) =>
        w.V0 * x[at] + w.V1 * x[at + 1] + w.V2 * x[at + 2] + w.V3 * x[at + 3] +
        w.V4 * x[at + 4] + w.V5 * x[at + 5] + w.V6 * x[at + 6] + w.V7 * x[at + 7];

    internal static void Write(ArrayView<float> y, MatMulArgs a, int m, int n, float s, float u)
    {
        var at = (long)m * a.Ldy + n;
        if (a.Mode == MatMulMode.Add) y[at] += s;
        else if (a.Mode != MatMulMode.Store) y[at] = Activations.Gate(a.Mode, s, u, a.GeluTable);
        else y[at] = s;
    }
}
