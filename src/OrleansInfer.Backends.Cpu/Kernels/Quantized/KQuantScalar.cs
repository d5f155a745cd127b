using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// The K-quant products without SIMD (ggml's generic kernels): each super-block is unpacked once into 256 signed
/// weights and its sub-block scales, then dotted with every token of the group in exact integers.
/// </summary>
internal static unsafe class KQuantScalar
{
    public static void Q4K<TG>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
    {
        var q = stackalloc sbyte[KQuantBlocks.QK];
        var scalesAndMins = stackalloc short[16];
        var acc = stackalloc float[4];
        for (var r = 0; r < rows; r++)
        {
            new Span<float>(acc, 4).Clear();
            for (var b = 0; b < blocks; b++)
            {
                var wb = w + r * rowBytes + b * KQuantBlocks.Q4KBytes;
                KQuantBlocks.ScalesAndMins(wb + KQuantBlocks.Q4KScales).Store(scalesAndMins);
                var qs = wb + KQuantBlocks.Q4KQs;
                for (var j = 0; j < 4; j++)
                {
                    for (var l = 0; l < 32; l++)
                    {
                        q[64 * j + l] = (sbyte)(qs[32 * j + l] & 0xF);
                        q[64 * j + 32 + l] = (sbyte)(qs[32 * j + l] >> 4);
                    }
                }
                AddScaledWithMins<TG>(acc, q, scalesAndMins, KQuantBlocks.Fp16(wb), KQuantBlocks.Fp16(wb + 2), x, xRowBytes, b);
            }
            for (var t = 0; t < TG.Count; t++) KQuantBlocks.Store(y + (long)t * ldy + r, acc[t], accumulate);
        }
    }

    public static void Q5K<TG>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
    {
        var q = stackalloc sbyte[KQuantBlocks.QK];
        var scalesAndMins = stackalloc short[16];
        var acc = stackalloc float[4];
        for (var r = 0; r < rows; r++)
        {
            new Span<float>(acc, 4).Clear();
            for (var b = 0; b < blocks; b++)
            {
                var wb = w + r * rowBytes + b * KQuantBlocks.Q5KBytes;
                KQuantBlocks.ScalesAndMins(wb + KQuantBlocks.Q5KScales).Store(scalesAndMins);
                var qh = wb + KQuantBlocks.Q5KQh;
                var qs = wb + KQuantBlocks.Q5KQs;
                for (var j = 0; j < 4; j++)
                {
                    for (var l = 0; l < 32; l++)
                    {
                        q[64 * j + l] = (sbyte)((qs[32 * j + l] & 0xF) | (((qh[l] >> (2 * j)) & 1) << 4));
                        q[64 * j + 32 + l] = (sbyte)((qs[32 * j + l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4));
                    }
                }
                AddScaledWithMins<TG>(acc, q, scalesAndMins, KQuantBlocks.Fp16(wb), KQuantBlocks.Fp16(wb + 2), x, xRowBytes, b);
            }
            for (var t = 0; t < TG.Count; t++) KQuantBlocks.Store(y + (long)t * ldy + r, acc[t], accumulate);
        }
    }

    public static void Q6K<TG>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
    {
        var q = stackalloc sbyte[KQuantBlocks.QK];
        var acc = stackalloc float[4];
        for (var r = 0; r < rows; r++)
        {
            new Span<float>(acc, 4).Clear();
            for (var b = 0; b < blocks; b++)
            {
                var wb = w + r * rowBytes + b * KQuantBlocks.Q6KBytes;
                for (var half = 0; half < 2; half++)
                {
                    var ql = wb + 64 * half;
                    var qh = wb + KQuantBlocks.Q6KQh + 32 * half;
                    var dst = q + 128 * half;
                    for (var l = 0; l < 32; l++)
                    {
                        dst[l] = (sbyte)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                        dst[l + 32] = (sbyte)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                        dst[l + 64] = (sbyte)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                        dst[l + 96] = (sbyte)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                    }
                }
                var scales = (sbyte*)(wb + KQuantBlocks.Q6KScales);
                var wd = KQuantBlocks.Fp16(wb + KQuantBlocks.Q6KD);
                for (var t = 0; t < TG.Count; t++)
                {
                    var xb = x + t * xRowBytes + b * Q8KActivations.BlockBytes;
                    var xq = (sbyte*)(xb + KQuantBlocks.Q8KQs);
                    var sumi = 0;
                    for (var g = 0; g < 16; g++) sumi += scales[g] * Dot(q + 16 * g, xq + 16 * g, 16);
                    acc[t] += *(float*)xb * wd * sumi;
                }
            }
            for (var t = 0; t < TG.Count; t++) KQuantBlocks.Store(y + (long)t * ldy + r, acc[t], accumulate);
        }
    }

    /// <summary>Q4_K/Q5_K: d·Σ scale·(q·x) over the eight sub-blocks of 32, minus dmin·Σ min·(their block sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaledWithMins<TG>(float* acc, sbyte* q, short* scalesAndMins, float wd, float wdmin, byte* x, long xRowBytes, int b)
        where TG : struct, ITokenGroup
    {
        for (var t = 0; t < TG.Count; t++)
        {
            var xb = x + t * xRowBytes + b * Q8KActivations.BlockBytes;
            var xq = (sbyte*)(xb + KQuantBlocks.Q8KQs);
            var bsums = (short*)(xb + KQuantBlocks.Q8KBsums);
            int sumi = 0, summ = 0;
            for (var s = 0; s < 8; s++)
            {
                sumi += scalesAndMins[s] * Dot(q + 32 * s, xq + 32 * s, 32);
                summ += scalesAndMins[8 + s] * (bsums[2 * s] + bsums[2 * s + 1]);
            }
            var xd = *(float*)xb;
            acc[t] += xd * wd * sumi + -xd * wdmin * summ;
        }
    }

    private static int Dot(sbyte* a, sbyte* b, int n)
    {
        var sum = 0;
        for (var i = 0; i < n; i++) sum += a[i] * b[i];
        return sum;
    }
}
