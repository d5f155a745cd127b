using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Q8_0 weights (blocks of an f16 scale and 32 int8) against Q8 activations. The byte multiply (vpmaddubsw) takes
/// one unsigned operand, so as in llama.cpp it multiplies |w| by x carrying w's sign; pairs stay within int16
/// (2 × 128 × 127). Per block: int32 lane sums → f32 → × (d_w · d_x) into the accumulator.
/// </summary>
internal readonly unsafe struct Q8_0Kernel : IQuantRowKernel
{
    public const int BlockBytes = 34;

    public static void Row<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate, SimdLevel level)
        where TM : struct, ITileRows
    {
        switch (level)
        {
            case SimdLevel.Avx512: Row512<TM>(w, x, xRowBytes, k, y, ldy, accumulate); break;
            case SimdLevel.AvxVnni: Row256<TM>(w, x, xRowBytes, k, y, ldy, accumulate, vnni: true); break;
            case SimdLevel.Avx2: Row256<TM>(w, x, xRowBytes, k, y, ldy, accumulate, vnni: false); break;
            default: RowScalar<TM>(w, x, xRowBytes, k, y, ldy, accumulate); break;
        }
    }

    private static void RowScalar<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate)
        where TM : struct, ITileRows
    {
        for (var m = 0; m < TM.M; m++)
        {
            var xm = x + m * xRowBytes;
            var values = Q8Activations.Values(xm);
            var scales = Q8Activations.Scales(xm, k);
            var sum = 0f;
            for (var b = 0; b < k / 32; b++)
            {
                var block = w + b * BlockBytes;
                var q = (sbyte*)(block + 2);
                var xb = values + b * 32;
                var s = 0;
                for (var j = 0; j < 32; j++) s += q[j] * xb[j];
                sum += QuantDot.Scale(block) * scales[b * 8] * s;
            }
            QuantDot.Store(y + (long)m * ldy, sum, accumulate);
        }
    }

    /// <summary>One block, 256-bit: the int32 lane sums of |w| · (x with w's sign).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block256(Vector256<byte> absW, Vector256<sbyte> signW, sbyte* x, bool vnni)
    {
        var signedX = Avx2.Sign(Vector256.Load(x), signW);
        var sums = vnni
            ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, absW, signedX)
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absW, signedX), Vector256.Create((short)1));
        return Vector256.ConvertToSingle(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row256<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate, bool vnni)
        where TM : struct, ITileRows
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        byte* x0 = x, x1 = x + xRowBytes, x2 = x + 2 * xRowBytes, x3 = x + 3 * xRowBytes;
        byte* x4 = x + 4 * xRowBytes, x5 = x + 5 * xRowBytes, x6 = x + 6 * xRowBytes, x7 = x + 7 * xRowBytes;
        var nb = k / 32;
        for (var b = 0; b < nb; b++)
        {
            var block = w + b * BlockBytes;
            var signW = Vector256.Load((sbyte*)(block + 2));
            var absW = Avx2.Abs(signW);
            var d = Vector256.Create(QuantDot.Scale(block));
            var q = b * 32;
            var s = b * 8;
            a0 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x0 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x0, k) + s), a0);
            if (TM.M > 1) a1 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x1 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x1, k) + s), a1);
            if (TM.M > 2) a2 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x2 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x2, k) + s), a2);
            if (TM.M > 3) a3 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x3 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x3, k) + s), a3);
            if (TM.M > 4) a4 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x4 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x4, k) + s), a4);
            if (TM.M > 5) a5 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x5 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x5, k) + s), a5);
            if (TM.M > 6) a6 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x6 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x6, k) + s), a6);
            if (TM.M > 7) a7 = Vector256.FusedMultiplyAdd(Block256(absW, signW, (sbyte*)x7 + q, vnni), d * Vector256.Load(Q8Activations.Scales(x7, k) + s), a7);
        }
        QuantDot.Store(y, Vector256.Sum(a0), accumulate);
        if (TM.M > 1) QuantDot.Store(y + ldy, Vector256.Sum(a1), accumulate);
        if (TM.M > 2) QuantDot.Store(y + 2 * ldy, Vector256.Sum(a2), accumulate);
        if (TM.M > 3) QuantDot.Store(y + 3 * ldy, Vector256.Sum(a3), accumulate);
        if (TM.M > 4) QuantDot.Store(y + 4 * ldy, Vector256.Sum(a4), accumulate);
        if (TM.M > 5) QuantDot.Store(y + 5 * ldy, Vector256.Sum(a5), accumulate);
        if (TM.M > 6) QuantDot.Store(y + 6 * ldy, Vector256.Sum(a6), accumulate);
        if (TM.M > 7) QuantDot.Store(y + 7 * ldy, Vector256.Sum(a7), accumulate);
    }

    /// <summary>Two blocks, 512-bit (AVX-512BW has no vpsignb: w's sign moves onto x through a compare mask).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Block512(Vector512<byte> absW, Vector512<sbyte> negative, sbyte* x)
    {
        var xv = Vector512.Load(x);
        var signedX = Vector512.ConditionalSelect(negative, -xv, xv);
        var pairs = Avx512BW.MultiplyAddAdjacent(absW, signedX);
        return Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(pairs, Vector512.Create((short)1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row512<TM>(byte* w, byte* x, long xRowBytes, int k, float* y, int ldy, bool accumulate)
        where TM : struct, ITileRows
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        byte* x0 = x, x1 = x + xRowBytes, x2 = x + 2 * xRowBytes, x3 = x + 3 * xRowBytes;
        byte* x4 = x + 4 * xRowBytes, x5 = x + 5 * xRowBytes, x6 = x + 6 * xRowBytes, x7 = x + 7 * xRowBytes;
        var nb = k / 32;
        var b = 0;
        for (; b + 2 <= nb; b += 2)
        {
            var block = w + b * BlockBytes;
            var wv = Vector512.Create(Vector256.Load((sbyte*)(block + 2)), Vector256.Load((sbyte*)(block + BlockBytes + 2)));
            var absW = Avx512BW.Abs(wv);
            var negative = Vector512.LessThan(wv, Vector512<sbyte>.Zero);
            var d = QuantDot.Scales(QuantDot.Scale(block), QuantDot.Scale(block + BlockBytes));
            var q = b * 32;
            var s = b * 8;
            a0 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x0 + q), d * Vector512.Load(Q8Activations.Scales(x0, k) + s), a0);
            if (TM.M > 1) a1 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x1 + q), d * Vector512.Load(Q8Activations.Scales(x1, k) + s), a1);
            if (TM.M > 2) a2 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x2 + q), d * Vector512.Load(Q8Activations.Scales(x2, k) + s), a2);
            if (TM.M > 3) a3 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x3 + q), d * Vector512.Load(Q8Activations.Scales(x3, k) + s), a3);
            if (TM.M > 4) a4 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x4 + q), d * Vector512.Load(Q8Activations.Scales(x4, k) + s), a4);
            if (TM.M > 5) a5 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x5 + q), d * Vector512.Load(Q8Activations.Scales(x5, k) + s), a5);
            if (TM.M > 6) a6 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x6 + q), d * Vector512.Load(Q8Activations.Scales(x6, k) + s), a6);
            if (TM.M > 7) a7 = Vector512.FusedMultiplyAdd(Block512(absW, negative, (sbyte*)x7 + q), d * Vector512.Load(Q8Activations.Scales(x7, k) + s), a7);
        }
        // An odd block count leaves the last block to 256 bits, added as each accumulator is folded (inlined: a call
        // after the loop would make the register allocator spill the accumulators inside it).
        QuantDot.Store(y, FoldWithTail(a0, w, x0, b, nb, k), accumulate);
        if (TM.M > 1) QuantDot.Store(y + ldy, FoldWithTail(a1, w, x1, b, nb, k), accumulate);
        if (TM.M > 2) QuantDot.Store(y + 2 * ldy, FoldWithTail(a2, w, x2, b, nb, k), accumulate);
        if (TM.M > 3) QuantDot.Store(y + 3 * ldy, FoldWithTail(a3, w, x3, b, nb, k), accumulate);
        if (TM.M > 4) QuantDot.Store(y + 4 * ldy, FoldWithTail(a4, w, x4, b, nb, k), accumulate);
        if (TM.M > 5) QuantDot.Store(y + 5 * ldy, FoldWithTail(a5, w, x5, b, nb, k), accumulate);
        if (TM.M > 6) QuantDot.Store(y + 6 * ldy, FoldWithTail(a6, w, x6, b, nb, k), accumulate);
        if (TM.M > 7) QuantDot.Store(y + 7 * ldy, FoldWithTail(a7, w, x7, b, nb, k), accumulate);
    }

    /// <summary>The sum of a 512-bit accumulator plus, when <paramref name="b"/> &lt; <paramref name="nb"/>, block b at 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FoldWithTail(Vector512<float> a, byte* w, byte* x, int b, int nb, int k)
    {
        if (b == nb) return QuantDot.Fold(a, default);
        var block = w + b * BlockBytes;
        var signW = Vector256.Load((sbyte*)(block + 2));
        var products = Block256(Avx2.Abs(signW), signW, (sbyte*)x + b * 32, false);
        return QuantDot.Fold(a, products * (Vector256.Create(QuantDot.Scale(block)) * Vector256.Load(Q8Activations.Scales(x, k) + b * 8)));
    }
}
