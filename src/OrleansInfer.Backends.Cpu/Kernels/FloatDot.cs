using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;

namespace OrleansInfer.Backends.Cpu.Kernels;

/// <summary>
/// Y[t, n] (+)= sum_k X[t, k] * W[n, k] for f32 activations and F32/F16/BF16 weights (an <see cref="IFloatWeights"/>
/// widens them in registers). A tile is up to 4 activation rows × 4 weight rows: 16 SIMD dot products sharing
/// their loads. Each (t, n) sum runs in the same order whatever the tile, so results do not depend on how rows
/// are split between threads.
/// </summary>
internal static unsafe class FloatDot
{
    public static void Rows<TW>(float* x, int tokens, int k, byte* w, long rowBytes, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
        where TW : struct, IFloatWeights
    {
        // Blocks of W rows of about 256 KiB stay in L2 while every token tile passes over them.
        var block = (int)Math.Clamp(262144 / rowBytes, 4, 512) & ~3;
        for (var nb = n0; nb < n1; nb += block)
        {
            var ne = Math.Min(n1, nb + block);
            var t = 0;
            for (; t + 4 <= tokens; t += 4) Tile<TW, M4>(x + (long)t * k, k, w, rowBytes, y + (long)t * ldy, ldy, nb, ne, accumulate, level);
            for (; t + 2 <= tokens; t += 2) Tile<TW, M2>(x + (long)t * k, k, w, rowBytes, y + (long)t * ldy, ldy, nb, ne, accumulate, level);
            for (; t < tokens; t++) Tile<TW, M1>(x + (long)t * k, k, w, rowBytes, y + (long)t * ldy, ldy, nb, ne, accumulate, level);
        }
    }

    private static void Tile<TW, TM>(float* x, int k, byte* w, long rowBytes, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
        where TW : struct, IFloatWeights
        where TM : struct, ITileRows
    {
        var n = n0;
        if (level == SimdLevel.Avx512)
        {
            for (; n + 4 <= n1; n += 4) Dot512x4<TW, TM>(x, k, w + n * rowBytes, rowBytes, y + n, ldy, accumulate);
        }
        else if (level != SimdLevel.Scalar)
        {
            for (; n + 4 <= n1; n += 4) Dot256x4<TW, TM>(x, k, w + n * rowBytes, rowBytes, y + n, ldy, accumulate);
        }
        for (; n < n1; n++)
        {
            for (var m = 0; m < TM.M; m++) Store(y + (long)m * ldy + n, Dot<TW>(x + (long)m * k, w + n * rowBytes, k, level), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, float v, bool accumulate) => *p = accumulate ? *p + v : v;

    /// <summary>TM activation rows by 4 weight rows, 512-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot512x4<TW, TM>(float* x, int k, byte* w, long rowBytes, float* y, int ldy, bool accumulate)
        where TW : struct, IFloatWeights
        where TM : struct, ITileRows
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        var i = 0;
        for (; i + 16 <= k; i += 16)
        {
            var v0 = TW.Load512(w0, i);
            var v1 = TW.Load512(w1, i);
            var v2 = TW.Load512(w2, i);
            var v3 = TW.Load512(w3, i);
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

        StoreRow<TW>(y, i, k, x0, w0, w1, w2, w3, Vector512.Sum(a00), Vector512.Sum(a01), Vector512.Sum(a02), Vector512.Sum(a03), accumulate);
        if (TM.M > 1) StoreRow<TW>(y + ldy, i, k, x1, w0, w1, w2, w3, Vector512.Sum(a10), Vector512.Sum(a11), Vector512.Sum(a12), Vector512.Sum(a13), accumulate);
        if (TM.M > 2)
        {
            StoreRow<TW>(y + 2 * ldy, i, k, x2, w0, w1, w2, w3, Vector512.Sum(a20), Vector512.Sum(a21), Vector512.Sum(a22), Vector512.Sum(a23), accumulate);
            StoreRow<TW>(y + 3 * ldy, i, k, x3, w0, w1, w2, w3, Vector512.Sum(a30), Vector512.Sum(a31), Vector512.Sum(a32), Vector512.Sum(a33), accumulate);
        }
    }

    /// <summary>TM activation rows by 4 weight rows, 256-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot256x4<TW, TM>(float* x, int k, byte* w, long rowBytes, float* y, int ldy, bool accumulate)
        where TW : struct, IFloatWeights
        where TM : struct, ITileRows
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        var i = 0;
        for (; i + 8 <= k; i += 8)
        {
            var v0 = TW.Load256(w0, i);
            var v1 = TW.Load256(w1, i);
            var v2 = TW.Load256(w2, i);
            var v3 = TW.Load256(w3, i);
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

        StoreRow<TW>(y, i, k, x0, w0, w1, w2, w3, Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a02), Vector256.Sum(a03), accumulate);
        if (TM.M > 1) StoreRow<TW>(y + ldy, i, k, x1, w0, w1, w2, w3, Vector256.Sum(a10), Vector256.Sum(a11), Vector256.Sum(a12), Vector256.Sum(a13), accumulate);
        if (TM.M > 2)
        {
            StoreRow<TW>(y + 2 * ldy, i, k, x2, w0, w1, w2, w3, Vector256.Sum(a20), Vector256.Sum(a21), Vector256.Sum(a22), Vector256.Sum(a23), accumulate);
            StoreRow<TW>(y + 3 * ldy, i, k, x3, w0, w1, w2, w3, Vector256.Sum(a30), Vector256.Sum(a31), Vector256.Sum(a32), Vector256.Sum(a33), accumulate);
        }
    }

    /// <summary>Adds the scalar tail k in [i, k) to four dot products and stores them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TW>(float* y, int i, int k, float* x, byte* w0, byte* w1, byte* w2, byte* w3,
        float s0, float s1, float s2, float s3, bool accumulate)
        where TW : struct, IFloatWeights
    {
        for (; i < k; i++)
        {
            var u = x[i];
            s0 += u * TW.Load(w0, i);
            s1 += u * TW.Load(w1, i);
            s2 += u * TW.Load(w2, i);
            s3 += u * TW.Load(w3, i);
        }
        Store(y, s0, accumulate);
        Store(y + 1, s1, accumulate);
        Store(y + 2, s2, accumulate);
        Store(y + 3, s3, accumulate);
    }

    /// <summary>One dot product of length <paramref name="k"/>.</summary>
    public static float Dot<TW>(float* x, byte* w, int k, SimdLevel level)
        where TW : struct, IFloatWeights
    {
        var i = 0;
        var s = 0f;
        if (level == SimdLevel.Avx512 && k >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= k; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), TW.Load512(w, i), acc);
            s = Vector512.Sum(acc);
        }
        else if (level != SimdLevel.Scalar && k >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= k; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), TW.Load256(w, i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < k; i++) s += x[i] * TW.Load(w, i);
        return s;
    }
}

/// <summary>Activation rows per tile, as a type so each tile size compiles to its own unrolled loop.</summary>
internal interface ITileRows
{
    static abstract int M { get; }
}

internal readonly struct M1 : ITileRows { public static int M => 1; }

internal readonly struct M2 : ITileRows { public static int M => 2; }

internal readonly struct M3 : ITileRows { public static int M => 3; }

internal readonly struct M4 : ITileRows { public static int M => 4; }

internal readonly struct M8 : ITileRows { public static int M => 8; }
