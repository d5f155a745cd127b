using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Y[t, n] (+)= sum_k X[t, k] * W[n, k]: every weight row and every activation row is contiguous in k, so a
/// tile of up to 4 activation rows by 4 weight rows is 16 SIMD dot products sharing their loads. Tiles are
/// walked weight-chunk by weight-chunk so a chunk of W stays in cache while all tokens pass over it: decode
/// (one token per sequence) streams W once, prefill reuses each W row for every token.
/// </summary>
internal static unsafe class MatMul
{
    /// <summary>Computes output rows [n0, n1) for all <paramref name="tokens"/> activation rows.</summary>
    public static void Rows(float* x, int tokens, int k, float* w, float* y, int ldy, int n0, int n1, bool accumulate)
    {
        // Blocks of W rows of about 256 KiB stay in L2 while every token tile passes over them.
        var block = Math.Clamp(65536 / k, 4, 512) & ~3;
        for (var nb = n0; nb < n1; nb += block)
        {
            var ne = Math.Min(n1, nb + block);
            var t = 0;
            for (; t + 4 <= tokens; t += 4) Tile<M4>(x + (long)t * k, k, w, y + (long)t * ldy, ldy, nb, ne, accumulate);
            for (; t + 2 <= tokens; t += 2) Tile<M2>(x + (long)t * k, k, w, y + (long)t * ldy, ldy, nb, ne, accumulate);
            for (; t < tokens; t++) Tile<M1>(x + (long)t * k, k, w, y + (long)t * ldy, ldy, nb, ne, accumulate);
        }
    }

    private interface ITileRows
    {
        static abstract int M { get; }
    }

    private readonly struct M1 : ITileRows { public static int M => 1; }
    private readonly struct M2 : ITileRows { public static int M => 2; }
    private readonly struct M4 : ITileRows { public static int M => 4; }

    private static void Tile<TM>(float* x, int k, float* w, float* y, int ldy, int n0, int n1, bool accumulate)
        where TM : struct, ITileRows
    {
        var n = n0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; n + 4 <= n1; n += 4) Dot512x4<TM>(x, k, w + (long)n * k, y + n, ldy, accumulate);
        }
        else
        {
            for (; n + 4 <= n1; n += 4) Dot256x4<TM>(x, k, w + (long)n * k, y + n, ldy, accumulate);
        }
        for (; n < n1; n++)
        {
            for (var m = 0; m < TM.M; m++) Store(y + (long)m * ldy + n, Dot(x + (long)m * k, w + (long)n * k, k), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, float v, bool accumulate) => *p = accumulate ? *p + v : v;

    /// <summary>TM activation rows by 4 weight rows, 512-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot512x4<TM>(float* x, int k, float* w, float* y, int ldy, bool accumulate)
        where TM : struct, ITileRows
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        var i = 0;
        for (; i + 16 <= k; i += 16)
        {
            var v0 = Vector512.Load(w0 + i);
            var v1 = Vector512.Load(w1 + i);
            var v2 = Vector512.Load(w2 + i);
            var v3 = Vector512.Load(w3 + i);
            var u = Vector512.Load(x0 + i);
            a00 = Vector512.FusedMultiplyAdd(u, v0, a00);
            a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(u, v2, a02);
            a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
            if (TM.M > 1)
            {
                u = Vector512.Load(x1 + i);
                a10 = Vector512.FusedMultiplyAdd(u, v0, a10);
                a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
                a12 = Vector512.FusedMultiplyAdd(u, v2, a12);
                a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
            }
            if (TM.M > 2)
            {
                u = Vector512.Load(x2 + i);
                a20 = Vector512.FusedMultiplyAdd(u, v0, a20);
                a21 = Vector512.FusedMultiplyAdd(u, v1, a21);
                a22 = Vector512.FusedMultiplyAdd(u, v2, a22);
                a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
                u = Vector512.Load(x3 + i);
                a30 = Vector512.FusedMultiplyAdd(u, v0, a30);
                a31 = Vector512.FusedMultiplyAdd(u, v1, a31);
                a32 = Vector512.FusedMultiplyAdd(u, v2, a32);
                a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
            }
        }

        StoreRow(y, i, k, x0, w0, w1, w2, w3, Vector512.Sum(a00), Vector512.Sum(a01), Vector512.Sum(a02), Vector512.Sum(a03), accumulate);
        if (TM.M > 1) StoreRow(y + ldy, i, k, x1, w0, w1, w2, w3, Vector512.Sum(a10), Vector512.Sum(a11), Vector512.Sum(a12), Vector512.Sum(a13), accumulate);
        if (TM.M > 2)
        {
            StoreRow(y + 2 * ldy, i, k, x2, w0, w1, w2, w3, Vector512.Sum(a20), Vector512.Sum(a21), Vector512.Sum(a22), Vector512.Sum(a23), accumulate);
            StoreRow(y + 3 * ldy, i, k, x3, w0, w1, w2, w3, Vector512.Sum(a30), Vector512.Sum(a31), Vector512.Sum(a32), Vector512.Sum(a33), accumulate);
        }
    }

    /// <summary>TM activation rows by 4 weight rows, 256-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot256x4<TM>(float* x, int k, float* w, float* y, int ldy, bool accumulate)
        where TM : struct, ITileRows
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        var i = 0;
        for (; i + 8 <= k; i += 8)
        {
            var v0 = Vector256.Load(w0 + i);
            var v1 = Vector256.Load(w1 + i);
            var v2 = Vector256.Load(w2 + i);
            var v3 = Vector256.Load(w3 + i);
            var u = Vector256.Load(x0 + i);
            a00 = Vector256.FusedMultiplyAdd(u, v0, a00);
            a01 = Vector256.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector256.FusedMultiplyAdd(u, v2, a02);
            a03 = Vector256.FusedMultiplyAdd(u, v3, a03);
            if (TM.M > 1)
            {
                u = Vector256.Load(x1 + i);
                a10 = Vector256.FusedMultiplyAdd(u, v0, a10);
                a11 = Vector256.FusedMultiplyAdd(u, v1, a11);
                a12 = Vector256.FusedMultiplyAdd(u, v2, a12);
                a13 = Vector256.FusedMultiplyAdd(u, v3, a13);
            }
            if (TM.M > 2)
            {
                u = Vector256.Load(x2 + i);
                a20 = Vector256.FusedMultiplyAdd(u, v0, a20);
                a21 = Vector256.FusedMultiplyAdd(u, v1, a21);
                a22 = Vector256.FusedMultiplyAdd(u, v2, a22);
                a23 = Vector256.FusedMultiplyAdd(u, v3, a23);
                u = Vector256.Load(x3 + i);
                a30 = Vector256.FusedMultiplyAdd(u, v0, a30);
                a31 = Vector256.FusedMultiplyAdd(u, v1, a31);
                a32 = Vector256.FusedMultiplyAdd(u, v2, a32);
                a33 = Vector256.FusedMultiplyAdd(u, v3, a33);
            }
        }

        StoreRow(y, i, k, x0, w0, w1, w2, w3, Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a02), Vector256.Sum(a03), accumulate);
        if (TM.M > 1) StoreRow(y + ldy, i, k, x1, w0, w1, w2, w3, Vector256.Sum(a10), Vector256.Sum(a11), Vector256.Sum(a12), Vector256.Sum(a13), accumulate);
        if (TM.M > 2)
        {
            StoreRow(y + 2 * ldy, i, k, x2, w0, w1, w2, w3, Vector256.Sum(a20), Vector256.Sum(a21), Vector256.Sum(a22), Vector256.Sum(a23), accumulate);
            StoreRow(y + 3 * ldy, i, k, x3, w0, w1, w2, w3, Vector256.Sum(a30), Vector256.Sum(a31), Vector256.Sum(a32), Vector256.Sum(a33), accumulate);
        }
    }

    /// <summary>Adds the scalar tail k in [i, k) to four dot products and stores them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, int i, int k, float* x, float* w0, float* w1, float* w2, float* w3,
        float s0, float s1, float s2, float s3, bool accumulate)
    {
        for (; i < k; i++)
        {
            var u = x[i];
            s0 += u * w0[i];
            s1 += u * w1[i];
            s2 += u * w2[i];
            s3 += u * w3[i];
        }
        Store(y, s0, accumulate);
        Store(y + 1, s1, accumulate);
        Store(y + 2, s2, accumulate);
        Store(y + 3, s3, accumulate);
    }

    /// <summary>One dot product of length <paramref name="k"/>.</summary>
    public static float Dot(float* a, float* b, int k)
    {
        var i = 0;
        float s;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= k; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            s = Vector512.Sum(acc);
        }
        else
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= k; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < k; i++) s += a[i] * b[i];
        return s;
    }
}
