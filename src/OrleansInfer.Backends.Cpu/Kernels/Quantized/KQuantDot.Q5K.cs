using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static OrleansInfer.Backends.Cpu.Kernels.Quantized.KQuantBlocks;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>Q5_K × Q8_K: Q4_K's nibbles plus a fifth bit from qh, where bit 2j of byte l belongs to the low nibble
/// of qs[32j + l] and bit 2j + 1 to its high nibble.</summary>
internal static unsafe partial class KQuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q5KAvx2<TG, TS>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
        where TS : struct, IScaleAdd
    {
        var m4 = Vector256.Create((byte)0x0F);
        var two = Vector256.Create((byte)2);
        var m1 = Vector256.Create((byte)1);
        for (var r = 0; r < rows; r++)
        {
            Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            var wb = w + r * rowBytes;
            var xb = x;
            for (var b = 0; b < blocks; b++, wb += Q5KBytes, xb += Q8KActivations.BlockBytes)
            {
                var scalesAndMins = ScalesAndMinsAvx2(wb + Q5KScales);
                var hbits = Vector256.Load(wb + Q5KQh).AsUInt16();
                // vpshufb picks scale 2j and 2j + 1 (bytes 2s, 2s + 1 of the low half) into every 16-bit lane.
                var scales = Vector256.Create(scalesAndMins.GetLower(), scalesAndMins.GetLower()).AsByte();
                var shuffle = Vector256.Create((short)0x0100).AsByte();
                Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
                var qs = wb + Q5KQs;
                var xq = xb + Q8KQs;
                for (var j = 0; j < 4; j++, qs += 32, xq += 64)
                {
                    var bits = Vector256.Load(qs);
                    var lo = (bits & m4) | FifthBit(hbits, 2 * j, m1);
                    var hi = (Vector256.ShiftRightLogical(bits.AsUInt16(), 4).AsByte() & m4) | FifthBit(hbits, 2 * j + 1, m1);
                    var sl = Avx2.Shuffle(scales, shuffle).AsInt16();
                    shuffle += two;
                    var sh = Avx2.Shuffle(scales, shuffle).AsInt16();
                    shuffle += two;
                    s0 = ScaleAdd<TS>(ScaleAdd<TS>(s0, sl, Products(lo, xq)), sh, Products(hi, xq + 32));
                    if (TG.Count > 1) s1 = ScaleAdd<TS>(ScaleAdd<TS>(s1, sl, Products(lo, xq + xRowBytes)), sh, Products(hi, xq + xRowBytes + 32));
                    if (TG.Count > 2) s2 = ScaleAdd<TS>(ScaleAdd<TS>(s2, sl, Products(lo, xq + 2 * xRowBytes)), sh, Products(hi, xq + 2 * xRowBytes + 32));
                    if (TG.Count > 3) s3 = ScaleAdd<TS>(ScaleAdd<TS>(s3, sl, Products(lo, xq + 3 * xRowBytes)), sh, Products(hi, xq + 3 * xRowBytes + 32));
                }
                var mins = scalesAndMins.GetUpper();
                var scalePair = Fp16Pair(wb);
                var wd = scalePair.ToScalar();
                var wdmin = scalePair.GetElement(1);
                acc0 = AddBlock(acc0, s0, mins, wd, wdmin, xb);
                if (TG.Count > 1) acc1 = AddBlock(acc1, s1, mins, wd, wdmin, xb + xRowBytes);
                if (TG.Count > 2) acc2 = AddBlock(acc2, s2, mins, wd, wdmin, xb + 2 * xRowBytes);
                if (TG.Count > 3) acc3 = AddBlock(acc3, s3, mins, wd, wdmin, xb + 3 * xRowBytes);
            }
            StoreRow<TG>(y + r, ldy, acc0, acc1, acc2, acc3, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q5KAvx512<TG>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
    {
        var m4 = Vector256.Create((byte)0x0F);
        var firstIndex = Vector512.Create(Vector256<short>.Zero, Vector256.Create((short)1));
        var two = Vector512.Create((short)2);
        var m1 = Vector256.Create((byte)1);
        for (var r = 0; r < rows; r++)
        {
            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            var wb = w + r * rowBytes;
            var xb = x;
            for (var b = 0; b < blocks; b++, wb += Q5KBytes, xb += Q8KActivations.BlockBytes)
            {
                var scalesAndMins = ScalesAndMinsAvx2(wb + Q5KScales);
                var hbits = Vector256.Load(wb + Q5KQh).AsUInt16();
                // vpermw: scale 2j in the low 256 bits, 2j + 1 in the high.
                var scalesAndMins512 = scalesAndMins.ToVector512Unsafe();
                var index = firstIndex;
                Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
                var qs = wb + Q5KQs;
                var xq = xb + Q8KQs;
                for (var j = 0; j < 4; j++, qs += 32, xq += 64)
                {
                    var bits = Vector256.Load(qs);
                    var lo = (bits & m4) | FifthBit(hbits, 2 * j, m1);
                    var hi = (Vector256.ShiftRightLogical(bits.AsUInt16(), 4).AsByte() & m4) | FifthBit(hbits, 2 * j + 1, m1);
                    var weights = Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);
                    var scale = Avx512BW.PermuteVar32x16(scalesAndMins512, index);
                    index += two;
                    s0 += Avx512Madd(scale, Products(weights, xq));
                    if (TG.Count > 1) s1 += Avx512Madd(scale, Products(weights, xq + xRowBytes));
                    if (TG.Count > 2) s2 += Avx512Madd(scale, Products(weights, xq + 2 * xRowBytes));
                    if (TG.Count > 3) s3 += Avx512Madd(scale, Products(weights, xq + 3 * xRowBytes));
                }
                var mins = scalesAndMins.GetUpper();
                var scalePair = Fp16Pair(wb);
                var wd = scalePair.ToScalar();
                var wdmin = scalePair.GetElement(1);
                acc0 = AddBlock(acc0, s0, mins, wd, wdmin, xb);
                if (TG.Count > 1) acc1 = AddBlock(acc1, s1, mins, wd, wdmin, xb + xRowBytes);
                if (TG.Count > 2) acc2 = AddBlock(acc2, s2, mins, wd, wdmin, xb + 2 * xRowBytes);
                if (TG.Count > 3) acc3 = AddBlock(acc3, s3, mins, wd, wdmin, xb + 3 * xRowBytes);
            }
            StoreRow<TG>(y + r, ldy, acc0, acc1, acc2, acc3, accumulate);
        }
    }

    /// <summary>Bit <paramref name="bit"/> of every qh byte moved to bit 4 (16 added to the nibble). The 16-bit shift
    /// lets the neighbouring byte's bits in, and the mask of 1 takes them out again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> FifthBit(Vector256<ushort> hbits, int bit, Vector256<byte> m1)
        => Vector256.ShiftLeft((Vector256.ShiftRightLogical(hbits, bit).AsByte() & m1).AsUInt16(), 4).AsByte();
}
