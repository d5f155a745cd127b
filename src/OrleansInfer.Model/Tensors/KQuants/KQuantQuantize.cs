using System.Buffers.Binary;

namespace OrleansInfer.Model.Tensors.KQuants;

/// <summary>
/// ggml's reference encoders for Q4_K, Q5_K, Q6_K and Q8_K (quantize_row_*_ref in ggml-quants.c, no importance
/// matrix): the same searches and float arithmetic, so the bytes equal llama.cpp's.
/// </summary>
internal static class KQuantQuantize
{
    private const int QK = GgmlTypeInfo.QK_K;

    public static void Q4K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        Span<byte> levels = stackalloc byte[QK];
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 144, 144);
            FitScaleMinBlock(x, 15, -1f, 20, levels, block[..2], block[2..4], block.Slice(4, 12));
            var qs = block.Slice(16, 128);
            for (var j = 0; j < 4; j++)
            {
                for (var l = 0; l < 32; l++) qs[32 * j + l] = (byte)(levels[64 * j + l] | (levels[64 * j + l + 32] << 4));
            }
        }
    }

    public static void Q5K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        Span<byte> levels = stackalloc byte[QK];
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 176, 176);
            FitScaleMinBlock(x, 31, -0.5f, 15, levels, block[..2], block[2..4], block.Slice(4, 12));
            var qh = block.Slice(16, 32);
            var ql = block.Slice(48, 128);
            qh.Clear();
            int m1 = 1, m2 = 2;
            for (var n = 0; n < 4; n++)
            {
                for (var j = 0; j < 32; j++)
                {
                    int l1 = levels[64 * n + j], l2 = levels[64 * n + j + 32];
                    if (l1 > 15) { l1 -= 16; qh[j] |= (byte)m1; }
                    if (l2 > 15) { l2 -= 16; qh[j] |= (byte)m2; }
                    ql[32 * n + j] = (byte)(l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
        }
    }

    /// <summary>
    /// The shared part of Q4_K and Q5_K: eight sub-blocks of 32 fitted with a scale and a minimum each, both
    /// quantized to 6 bits against f16 super-block scales, then every value re-quantized with the stored scales.
    /// </summary>
    private static void FitScaleMinBlock(ReadOnlySpan<float> x, int nmax, float rmin, int nstep, Span<byte> levels,
        Span<byte> dBytes, Span<byte> dminBytes, Span<byte> packed)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> aux = stackalloc byte[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            var xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (var l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
            var avX = MathF.Sqrt(sumX2 / 32);
            for (var l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
            scales[j] = KQuantFit.MakeQkx2Quants(32, nmax, xs, weights, levels.Slice(32 * j, 32), out mins[j], aux, rmin, 0.1f, nstep, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        var invScale = maxScale > 0 ? 63f / maxScale : 0f;
        var invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (var j = 0; j < 8; j++)
        {
            // ggml stores nearest_int into a uint8_t before clamping: keep the wrap-around.
            var ls = Math.Min((byte)63, (byte)KQuantFit.NearestInt(invScale * scales[j]));
            var lm = Math.Min((byte)63, (byte)KQuantFit.NearestInt(invMin * mins[j]));
            if (j < 4)
            {
                packed[j] = ls;
                packed[j + 4] = lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
        var d = (Half)(maxScale / 63f);
        var dmin = (Half)(maxMin / 63f);
        BinaryPrimitives.WriteHalfLittleEndian(dBytes, d);
        BinaryPrimitives.WriteHalfLittleEndian(dminBytes, dmin);

        for (var j = 0; j < 8; j++)
        {
            KQuantDequantize.ScaleMinK4(j, packed, out var sc, out var m);
            var dj = (float)d * sc;
            if (dj == 0) continue;
            var dm = (float)dmin * m;
            for (var i = 0; i < 32; i++)
            {
                levels[32 * j + i] = (byte)Math.Max(0, Math.Min(nmax, KQuantFit.NearestInt((x[32 * j + i] + dm) / dj)));
            }
        }
    }

    public static void Q6K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        Span<sbyte> levels = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[16];
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 210, 210);
            float maxScale = 0, maxAbsScale = 0;
            for (var ib = 0; ib < 16; ib++)
            {
                scales[ib] = KQuantFit.MakeQxQuants(16, 32, x.Slice(16 * ib, 16), levels.Slice(16 * ib, 16), 1, default);
                var abs = MathF.Abs(scales[ib]);
                if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scales[ib]; }
            }
            if (maxAbsScale < KQuantFit.GroupMaxEps)
            {
                block.Clear();
                continue;
            }

            var iscale = -128f / maxScale;
            var d = (Half)(1 / iscale);
            BinaryPrimitives.WriteHalfLittleEndian(block[208..], d);
            var sc = block.Slice(192, 16);
            for (var ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, KQuantFit.NearestInt(iscale * scales[ib]));
            for (var j = 0; j < 16; j++)
            {
                var dj = (float)d * (sbyte)sc[j];
                if (dj == 0) continue;
                for (var i = 0; i < 16; i++)
                {
                    levels[16 * j + i] = (sbyte)(Math.Max(-32, Math.Min(31, KQuantFit.NearestInt(x[16 * j + i] / dj))) + 32);
                }
            }

            for (var h = 0; h < 2; h++)
            {
                var ql = block.Slice(64 * h, 64);
                var qh = block.Slice(128 + 32 * h, 32);
                var lv = levels.Slice(128 * h, 128);
                for (var l = 0; l < 32; l++)
                {
                    int l0 = lv[l], l1 = lv[l + 32], l2 = lv[l + 64], l3 = lv[l + 96];
                    ql[l] = (byte)((l0 & 0xF) | ((l2 & 0xF) << 4));
                    ql[l + 32] = (byte)((l1 & 0xF) | ((l3 & 0xF) << 4));
                    qh[l] = (byte)((l0 >> 4) | ((l1 >> 4) << 2) | ((l2 >> 4) << 4) | ((l3 >> 4) << 6));
                }
            }
        }
    }

    /// <summary>Q8_K: f32 scale from the signed maximum (-127 levels), int8 quants and their sums per 16.</summary>
    public static void Q8K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 292, 292);
            float max = 0, amax = 0;
            for (var j = 0; j < QK; j++)
            {
                var ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (amax == 0)
            {
                // ggml leaves the sums of an all-zero block untouched; zero is what they would hold.
                block.Clear();
                continue;
            }
            var iscale = -127f / max;
            for (var j = 0; j < QK; j++) block[4 + j] = (byte)(sbyte)Math.Min(127, KQuantFit.NearestInt(iscale * x[j]));
            for (var j = 0; j < 16; j++)
            {
                var sum = 0;
                for (var i = 0; i < 16; i++) sum += (sbyte)block[4 + 16 * j + i];
                BinaryPrimitives.WriteInt16LittleEndian(block[(260 + 2 * j)..], (short)sum);
            }
            BinaryPrimitives.WriteSingleLittleEndian(block, 1 / iscale);
        }
    }
}
