using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static OrleansInfer.Backends.Cpu.Kernels.Quantized.KQuantBlocks;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>The steps the SIMD K-quant kernels share: scaling 16-bit products into 32-bit sums, folding a
/// super-block's integer sums into the float accumulators, and storing a row's results.</summary>
internal static unsafe partial class KQuantDot
{
    /// <summary>sum + madd(scale, p): each pair of 16-bit products times its sub-block scale, added as 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaleAdd<TS>(Vector256<int> sum, Vector256<short> scale, Vector256<short> products)
        where TS : struct, IScaleAdd
        => TS.Vnni ? AvxVnni.MultiplyWideningAndAdd(sum, scale, products) : Avx2.Add(sum, Avx2.MultiplyAddAdjacent(scale, products));

    /// <summary>vpmaddubsw: unsigned weights times signed activations, adjacent pairs added (no saturation: weights
    /// are at most 63 and activations at most 127 in magnitude).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Products(Vector256<byte> weights, byte* activations)
        => Avx2.MultiplyAddAdjacent(weights, Vector256.Load((sbyte*)activations));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Products(Vector512<byte> weights, byte* activations)
        => Avx512BW.MultiplyAddAdjacent(weights, Vector512.Load((sbyte*)activations));

    /// <summary>vpmaddwd on 512 bits: 16-bit products times their sub-block scales, pairs added into 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Avx512Madd(Vector512<short> scale, Vector512<short> products)
        => Avx512BW.MultiplyAddAdjacent(scale, products);

    /// <summary>The four products of a Q8_K block's pair sums (one per 32 values) with the eight 6-bit mins.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> MinTerms(Vector128<short> mins, byte* xBlock)
    {
        var bsums = (short*)(xBlock + Q8KBsums);
        var pairSums = Ssse3.HorizontalAdd(Vector128.Load(bsums), Vector128.Load(bsums + 8));
        return Sse2.ConvertToVector128Single(Sse2.MultiplyAddAdjacent(mins, pairSums));
    }

    /// <summary>acc += (dx·d)·sumi + (-dx·dmin)·(mins · pair sums), as ggml's Q4_K/Q5_K kernels combine them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> sumi, Vector128<short> mins, float wd, float wdmin, byte* xBlock)
    {
        var xd = *(float*)xBlock;
        acc = Fma.MultiplyAdd(Vector256.Create(xd * wd), Avx.ConvertToVector256Single(sumi), acc);
        return Fma.MultiplyAdd(Vector256.Create(-xd * wdmin), MinTerms(mins, xBlock).ToVector256(), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> AddBlock(Vector512<float> acc, Vector512<int> sumi, Vector128<short> mins, float wd, float wdmin, byte* xBlock)
    {
        var xd = *(float*)xBlock;
        acc = Avx512F.FusedMultiplyAdd(Vector512.Create(xd * wd), Avx512F.ConvertToVector512Single(sumi), acc);
        return Avx512F.FusedMultiplyAdd(Vector512.Create(-xd * wdmin), MinTerms(mins, xBlock).ToVector256().ToVector512(), acc);
    }

    /// <summary>acc += (dx·d)·sumi, for Q6_K whose offset is already in sumi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> sumi, float wd, byte* xBlock)
        => Fma.MultiplyAdd(Vector256.Create(*(float*)xBlock * wd), Avx.ConvertToVector256Single(sumi), acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> AddBlock(Vector512<float> acc, Vector512<int> sumi, float wd, byte* xBlock)
        => Avx512F.FusedMultiplyAdd(Vector512.Create(*(float*)xBlock * wd), Avx512F.ConvertToVector512Single(sumi), acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TG>(float* y, int ldy, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, bool accumulate)
        where TG : struct, ITokenGroup
    {
        Store(y, Vector256.Sum(a0), accumulate);
        if (TG.Count > 1) Store(y + ldy, Vector256.Sum(a1), accumulate);
        if (TG.Count > 2) Store(y + 2L * ldy, Vector256.Sum(a2), accumulate);
        if (TG.Count > 3) Store(y + 3L * ldy, Vector256.Sum(a3), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TG>(float* y, int ldy, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, bool accumulate)
        where TG : struct, ITokenGroup
    {
        Store(y, Vector512.Sum(a0), accumulate);
        if (TG.Count > 1) Store(y + ldy, Vector512.Sum(a1), accumulate);
        if (TG.Count > 2) Store(y + 2L * ldy, Vector512.Sum(a2), accumulate);
        if (TG.Count > 3) Store(y + 3L * ldy, Vector512.Sum(a3), accumulate);
    }
}
