using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static OrleansInfer.Backends.Cpu.Kernels.Quantized.KQuantBlocks;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// Q6_K × Q8_K. Per half of 128 weights: ql[0..31] low nibbles are weights 0-31, ql[32..63] low nibbles 32-63,
/// their high nibbles 64-95 and 96-127; qh byte l gives two high bits to each of the four (bits 0-1, 2-3, 4-5, 6-7).
/// Weights are used unsigned (0..63) and the offset of 32 is taken off once per block as 32·Σ scale·bsum,
/// which is the same integer as ggml's per-product subtraction.
/// </summary>
internal static unsafe partial class KQuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q6KAvx2<TG, TS>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
        where TS : struct, IScaleAdd
    {
        var m4 = Vector256.Create((byte)0x0F);
        var m30 = Vector256.Create((byte)0x30);
        // Bytes [2i x 8, 2i + 1 x 8]: the scales of the two 16-weight groups of a 32-weight vector.
        var pairMask = Vector128.Create((sbyte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        for (var r = 0; r < rows; r++)
        {
            Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            var wb = w + r * rowBytes;
            var xb = x;
            for (var b = 0; b < blocks; b++, wb += Q6KBytes, xb += Q8KActivations.BlockBytes)
            {
                var scales = Vector128.Load((sbyte*)(wb + Q6KScales));
                var scales16 = Avx2.ConvertToVector256Int16(scales);
                Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var half = 0; half < 2; half++)
                {
                    var l0 = Vector256.Load(wb + 64 * half);
                    var l1 = Vector256.Load(wb + 64 * half + 32);
                    var hb = Vector256.Load(wb + Q6KQh + 32 * half).AsUInt16();
                    var xq = xb + Q8KQs + 128 * half;
                    var q0 = (l0 & m4) | (Vector256.ShiftLeft(hb, 4).AsByte() & m30);
                    var scale0 = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales, pairMask + Vector128.Create((sbyte)(8 * half + 0))));
                    s0 = ScaleAdd<TS>(s0, scale0, Products(q0, xq + 0));
                    if (TG.Count > 1) s1 = ScaleAdd<TS>(s1, scale0, Products(q0, xq + xRowBytes + 0));
                    if (TG.Count > 2) s2 = ScaleAdd<TS>(s2, scale0, Products(q0, xq + 2 * xRowBytes + 0));
                    if (TG.Count > 3) s3 = ScaleAdd<TS>(s3, scale0, Products(q0, xq + 3 * xRowBytes + 0));
                    var q1 = (l1 & m4) | (Vector256.ShiftLeft(hb, 2).AsByte() & m30);
                    var scale1 = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales, pairMask + Vector128.Create((sbyte)(8 * half + 2))));
                    s0 = ScaleAdd<TS>(s0, scale1, Products(q1, xq + 32));
                    if (TG.Count > 1) s1 = ScaleAdd<TS>(s1, scale1, Products(q1, xq + xRowBytes + 32));
                    if (TG.Count > 2) s2 = ScaleAdd<TS>(s2, scale1, Products(q1, xq + 2 * xRowBytes + 32));
                    if (TG.Count > 3) s3 = ScaleAdd<TS>(s3, scale1, Products(q1, xq + 3 * xRowBytes + 32));
                    var q2 = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & m4) | (hb.AsByte() & m30);
                    var scale2 = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales, pairMask + Vector128.Create((sbyte)(8 * half + 4))));
                    s0 = ScaleAdd<TS>(s0, scale2, Products(q2, xq + 64));
                    if (TG.Count > 1) s1 = ScaleAdd<TS>(s1, scale2, Products(q2, xq + xRowBytes + 64));
                    if (TG.Count > 2) s2 = ScaleAdd<TS>(s2, scale2, Products(q2, xq + 2 * xRowBytes + 64));
                    if (TG.Count > 3) s3 = ScaleAdd<TS>(s3, scale2, Products(q2, xq + 3 * xRowBytes + 64));
                    var q3 = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftRightLogical(hb, 2).AsByte() & m30);
                    var scale3 = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales, pairMask + Vector128.Create((sbyte)(8 * half + 6))));
                    s0 = ScaleAdd<TS>(s0, scale3, Products(q3, xq + 96));
                    if (TG.Count > 1) s1 = ScaleAdd<TS>(s1, scale3, Products(q3, xq + xRowBytes + 96));
                    if (TG.Count > 2) s2 = ScaleAdd<TS>(s2, scale3, Products(q3, xq + 2 * xRowBytes + 96));
                    if (TG.Count > 3) s3 = ScaleAdd<TS>(s3, scale3, Products(q3, xq + 3 * xRowBytes + 96));
                }
                var wd = Fp16(wb + Q6KD);
                acc0 = AddBlock(acc0, s0 - Offset(scales16, xb), wd, xb);
                if (TG.Count > 1) acc1 = AddBlock(acc1, s1 - Offset(scales16, xb + xRowBytes), wd, xb + xRowBytes);
                if (TG.Count > 2) acc2 = AddBlock(acc2, s2 - Offset(scales16, xb + 2 * xRowBytes), wd, xb + 2 * xRowBytes);
                if (TG.Count > 3) acc3 = AddBlock(acc3, s3 - Offset(scales16, xb + 3 * xRowBytes), wd, xb + 3 * xRowBytes);
            }
            StoreRow<TG>(y + r, ldy, acc0, acc1, acc2, acc3, accumulate);
        }
    }

    /// <summary>512-bit lanes: ql's 64 bytes of low nibbles are weights 0-63 of a half and their high nibbles
    /// 64-127; qh broadcast to both 256-bit halves and shifted per 64-bit lane gives the matching high bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q6KAvx512<TG>(byte* w, long rowBytes, int rows, byte* x, long xRowBytes, int blocks, float* y, int ldy, bool accumulate)
        where TG : struct, ITokenGroup
    {
        var m4 = Vector512.Create((byte)0x0F);
        var m30 = Vector512.Create((byte)0x30);
        // Low 256 bits: weights 0-31 take qh bits 0-1, 32-63 bits 2-3; for 64-127 bits 4-5 and 6-7.
        var lowShift = Vector512.Create(Vector256.Create(4UL), Vector256.Create(2UL));
        var highShift = Vector512.Create(Vector256.Create(0UL), Vector256.Create(2UL));
        // 128-bit lane n of a 64-weight vector holds 16 weights of scale group 4·quarter + n.
        var groupIndex = Vector512.Create(
            Vector256.Create(Vector128.Create((short)0), Vector128.Create((short)1)),
            Vector256.Create(Vector128.Create((short)2), Vector128.Create((short)3)));
        for (var r = 0; r < rows; r++)
        {
            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            var wb = w + r * rowBytes;
            var xb = x;
            for (var b = 0; b < blocks; b++, wb += Q6KBytes, xb += Q8KActivations.BlockBytes)
            {
                var scales16 = Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(wb + Q6KScales)));
                var scales512 = scales16.ToVector512Unsafe();
                Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var half = 0; half < 2; half++)
                {
                    var ql = Vector512.Load(wb + 64 * half);
                    // Not Avx512F.BroadcastVector256ToVector512(address): .NET 10.0.12 compresses its displacement
                    // for a 16-byte operand and loads from the wrong address (+0x80 reads +0x100).
                    var qh = Vector256.Load(wb + Q6KQh + 32 * half);
                    var hb = Avx512F.InsertVector256(qh.ToVector512Unsafe(), qh, 1).AsUInt64();
                    var low = (ql & m4) | (Avx512F.ShiftLeftLogicalVariable(hb, lowShift).AsByte() & m30);
                    var high = (Vector512.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & m4) | (Avx512F.ShiftRightLogicalVariable(hb, highShift).AsByte() & m30);
                    var xq = xb + Q8KQs + 128 * half;
                    var lowScale = Avx512BW.PermuteVar32x16(scales512, groupIndex + Vector512.Create((short)(8 * half)));
                    var highScale = Avx512BW.PermuteVar32x16(scales512, groupIndex + Vector512.Create((short)(8 * half + 4)));
                    s0 += Avx512Madd(lowScale, Products(low, xq)) + Avx512Madd(highScale, Products(high, xq + 64));
                    if (TG.Count > 1) s1 += Avx512Madd(lowScale, Products(low, xq + xRowBytes)) + Avx512Madd(highScale, Products(high, xq + xRowBytes + 64));
                    if (TG.Count > 2) s2 += Avx512Madd(lowScale, Products(low, xq + 2 * xRowBytes)) + Avx512Madd(highScale, Products(high, xq + 2 * xRowBytes + 64));
                    if (TG.Count > 3) s3 += Avx512Madd(lowScale, Products(low, xq + 3 * xRowBytes)) + Avx512Madd(highScale, Products(high, xq + 3 * xRowBytes + 64));
                }
                var wd = Fp16(wb + Q6KD);
                acc0 = AddBlock(acc0, s0 - Offset(scales16, xb).ToVector512(), wd, xb);
                if (TG.Count > 1) acc1 = AddBlock(acc1, s1 - Offset(scales16, xb + xRowBytes).ToVector512(), wd, xb + xRowBytes);
                if (TG.Count > 2) acc2 = AddBlock(acc2, s2 - Offset(scales16, xb + 2 * xRowBytes).ToVector512(), wd, xb + 2 * xRowBytes);
                if (TG.Count > 3) acc3 = AddBlock(acc3, s3 - Offset(scales16, xb + 3 * xRowBytes).ToVector512(), wd, xb + 3 * xRowBytes);
            }
            StoreRow<TG>(y + r, ldy, acc0, acc1, acc2, acc3, accumulate);
        }
    }

    /// <summary>32·Σ scale·bsum over the 16 groups (as 8 partial sums): what the unsigned weights overcount.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Offset(Vector256<short> scales16, byte* xBlock)
        => Vector256.ShiftLeft(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load((short*)(xBlock + Q8KBsums))), 5);
}
