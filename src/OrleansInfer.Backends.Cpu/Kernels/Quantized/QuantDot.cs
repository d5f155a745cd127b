using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>One weight row of a 32-value block type against up to 8 <see cref="Q8Activations"/> rows.</summary>
internal unsafe interface IQuantRowKernel
{
    /// <summary>y[m * ldy] (+)= dot(W row, X row m) for m in [0, TM.M).</summary>
    static abstract void Row<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate, SimdLevel level)
        where TM : struct, ITileRows;
}

/// <summary>
/// Products of Q8_0/Q4_0 weight rows (ggml blocks in place) with <see cref="Q8Activations"/> rows. Weight rows
/// are walked in L2-sized blocks; within a block, each row is decoded once per tile of up to 8 activation rows
/// (decode: several sequences per weight pass; prefill: the block stays in L2 for every token). Decoding a block
/// (loads, sign or nibble split, f16 scales) costs about as much as two of its products, so 8 tokens per decode
/// rather than 4 is what speeds up prefill; tiles of several weight rows, which share activation loads instead,
/// measured no faster (the products are bound by vector ALU work, not loads).
/// Each (t, n) sum runs in the same order whatever the split between threads.
/// </summary>
internal static unsafe class QuantDot
{
    /// <summary>The largest k taking tiles of 8 activation rows.</summary>
    public const int MaxWideK = 1024;

    public static void Rows<TK>(byte* w, long rowBytes, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
        where TK : struct, IQuantRowKernel
    {
        var block = (int)Math.Clamp(262144 / rowBytes, 4, 1024);
        // 8 activation rows per tile only while they fit in L1 beside the weight row (a Q8 row is 3 bytes per
        // value): at k = 2048 the 8-row tile measured slower than 4-row tiles.
        var wide = k <= MaxWideK;
        for (var nb = n0; nb < n1; nb += block)
        {
            var ne = Math.Min(n1, nb + block);
            var t = 0;
            for (; wide && t + 8 <= tokens; t += 8) Tile<TK, M8>(w, rowBytes, x + t * xRowBytes, xRowBytes, k, y + (long)t * ldy, ldy, nb, ne, accumulate, level);
            for (; t + 4 <= tokens; t += 4) Tile<TK, M4>(w, rowBytes, x + t * xRowBytes, xRowBytes, k, y + (long)t * ldy, ldy, nb, ne, accumulate, level);
            var rest = tokens - t;
            var xt = x + t * xRowBytes;
            var yt = y + (long)t * ldy;
            if (rest == 3) Tile<TK, M3>(w, rowBytes, xt, xRowBytes, k, yt, ldy, nb, ne, accumulate, level);
            else if (rest == 2) Tile<TK, M2>(w, rowBytes, xt, xRowBytes, k, yt, ldy, nb, ne, accumulate, level);
            else if (rest == 1) Tile<TK, M1>(w, rowBytes, xt, xRowBytes, k, yt, ldy, nb, ne, accumulate, level);
        }
    }

    private static void Tile<TK, TM>(byte* w, long rowBytes, byte* x, long xRowBytes, int k, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
        where TK : struct, IQuantRowKernel
        where TM : struct, ITileRows
    {
        for (var n = n0; n < n1; n++) TK.Row<TM>(w + n * rowBytes, x, xRowBytes, k, y + n, ldy, accumulate, level);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, float v, bool accumulate) => *p = accumulate ? *p + v : v;

    /// <summary>The f16 scale at the start of a ggml block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => F16Weights.ToSingle(*(ushort*)block);

    /// <summary>Two blocks' scales, each repeated over the 8 int32 lanes of its half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(float d0, float d1) => Vector512.Create(Vector256.Create(d0), Vector256.Create(d1));

    /// <summary>The sum of a 512-bit block-pair accumulator and a 256-bit one (an odd last block, or zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fold(Vector512<float> a, Vector256<float> tail) => Vector256.Sum(a.GetLower() + a.GetUpper() + tail);
}
