using System.Buffers.Binary;

namespace OrleansInfer.Model.Tensors.KQuants;

/// <summary>ggml's reference encoders for the 2- and 3-bit K-quants (quantize_row_q2_K_ref, quantize_row_q3_K_ref).</summary>
internal static class KQuantQuantizeLow
{
    private const int QK = GgmlTypeInfo.QK_K;

    /// <summary>Sixteen sub-blocks of 16 with a 4-bit scale and a 4-bit minimum each; levels 0-3.</summary>
    public static void Q2K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        Span<byte> levels = stackalloc byte[QK];
        Span<byte> aux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        const float q4Scale = 15f;
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 84, 84);
            var sc = block[..16];
            float maxScale = 0, maxMin = 0;
            for (var j = 0; j < 16; j++)
            {
                var xs = x.Slice(16 * j, 16);
                for (var l = 0; l < 16; l++) weights[l] = MathF.Abs(xs[l]);
                scales[j] = KQuantFit.MakeQkx2Quants(16, 3, xs, weights, levels.Slice(16 * j, 16), out mins[j], aux, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }

            var d = (Half)0f;
            var dmin = (Half)0f;
            sc.Clear();
            if (maxScale > 0)
            {
                var iscale = q4Scale / maxScale;
                for (var j = 0; j < 16; j++) sc[j] = (byte)KQuantFit.NearestInt(iscale * scales[j]);
                d = (Half)(maxScale / q4Scale);
            }
            if (maxMin > 0)
            {
                var iscale = q4Scale / maxMin;
                for (var j = 0; j < 16; j++) sc[j] |= (byte)(KQuantFit.NearestInt(iscale * mins[j]) << 4);
                dmin = (Half)(maxMin / q4Scale);
            }
            BinaryPrimitives.WriteHalfLittleEndian(block[80..], d);
            BinaryPrimitives.WriteHalfLittleEndian(block[82..], dmin);

            for (var j = 0; j < 16; j++)
            {
                var dj = (float)d * (sc[j] & 0xF);
                if (dj == 0) continue;
                var dm = (float)dmin * (sc[j] >> 4);
                for (var i = 0; i < 16; i++)
                {
                    levels[16 * j + i] = (byte)Math.Max(0, Math.Min(3, KQuantFit.NearestInt((x[16 * j + i] + dm) / dj)));
                }
            }
            PackTwoBits(levels, block.Slice(16, 64));
        }
    }

    /// <summary>Sixteen sub-blocks of 16 with a signed 6-bit scale each; levels -4..3 as 2 low bits and a high-bit mask.</summary>
    public static void Q3K(ReadOnlySpan<float> source, Span<byte> destination)
    {
        Span<sbyte> levels = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[16];
        Span<byte> low = stackalloc byte[QK];
        for (var b = 0; b < source.Length / QK; b++)
        {
            var x = source.Slice(b * QK, QK);
            var block = destination.Slice(b * 110, 110);
            float maxScale = 0, amax = 0;
            for (var j = 0; j < 16; j++)
            {
                scales[j] = KQuantFit.MakeQ3Quants(16, 4, x.Slice(16 * j, 16), levels.Slice(16 * j, 16), true);
                var abs = MathF.Abs(scales[j]);
                if (abs > amax) { amax = abs; maxScale = scales[j]; }
            }

            var packed = block.Slice(96, 12);
            packed.Clear();
            var d = (Half)0f;
            if (maxScale != 0)
            {
                var iscale = -32f / maxScale;
                for (var j = 0; j < 16; j++)
                {
                    // ggml keeps nearest_int in an int8_t before clamping.
                    int l = (sbyte)KQuantFit.NearestInt(iscale * scales[j]);
                    l = Math.Max(-32, Math.Min(31, l)) + 32;
                    if (j < 8) packed[j] = (byte)(l & 0xF);
                    else packed[j - 8] |= (byte)((l & 0xF) << 4);
                    packed[j % 4 + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
                }
                d = (Half)(1 / iscale);
            }
            BinaryPrimitives.WriteHalfLittleEndian(block[108..], d);

            for (var j = 0; j < 16; j++)
            {
                var sc = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
                sc = (sc | (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
                var dj = (float)d * sc;
                if (dj == 0) continue;
                for (var i = 0; i < 16; i++)
                {
                    levels[16 * j + i] = (sbyte)(Math.Max(-4, Math.Min(3, KQuantFit.NearestInt(x[16 * j + i] / dj))) + 4);
                }
            }

            // The third bit of value j goes to hmask[j % 32], bit j / 32.
            var hmask = block[..32];
            hmask.Clear();
            for (var j = 0; j < QK; j++)
            {
                var l = levels[j];
                if (l > 3)
                {
                    hmask[j % 32] |= (byte)(1 << (j / 32));
                    l -= 4;
                }
                low[j] = (byte)l;
            }
            PackTwoBits(low, block.Slice(32, 64));
        }
    }

    /// <summary>Four 2-bit levels per byte: byte l of each 32-byte half holds values l, l+32, l+64, l+96 of its 128.</summary>
    private static void PackTwoBits(ReadOnlySpan<byte> levels, Span<byte> qs)
    {
        for (var h = 0; h < 2; h++)
        {
            for (var l = 0; l < 32; l++)
            {
                var at = 128 * h + l;
                qs[32 * h + l] = (byte)(levels[at] | (levels[at + 32] << 2) | (levels[at + 64] << 4) | (levels[at + 96] << 6));
            }
        }
    }
}
