using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>One weight row of a 32-value block type against up to 4 <see cref="Q8Activations"/> rows.</summary>
internal unsafe interface IQuantRowKernel
{
    /// <summary>y[m * ldy] (+)= dot(W row, X row m) for m in [0, TM.M).</summary>
    static abstract void Row<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate, SimdLevel level)
        where TM : struct, ITileRows;
}

/// <summary>
/// Products of Q8_0/Q4_0 weight rows (ggml blocks in place) with <see cref="Q8Activations"/> rows. Weight rows
/// are walked in L2-sized blocks; within a block, each row is decoded once per tile of up to 4 activation rows
/// (decode: several sequences per weight pass; prefill: the block stays in L2 for every token).
/// Each (t, n) sum runs in the same order whatever the split between threads.
/// </summary>
internal static unsafe class QuantDot
{
    public static void Rows<TK>(byte* w, long rowBytes, byte* x, long xRowBytes, int tokens, int k, float* y, int ldy, int n0, int n1, bool accumulate, SimdLevel level)
        where TK : struct, IQuantRowKernel
    {
        var block = (int)Math.Clamp(262144 / rowBytes, 4, 1024);
        for (var nb = n0; nb < n1; nb += block)
        {
            var ne = Math.Min(n1, nb + block);
            var t = 0;
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
}
