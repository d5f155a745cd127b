using System.Buffers.Binary;

namespace OrleansInfer.Model.Tensors.KQuants;

/// <summary>
/// Decoding of ggml's K-quant super-blocks (256 values), ported from ggml-quants.c's dequantize_row_*.
/// The float operations keep ggml's order (sub-block scale products first, then scale * q - min) so the
/// results are bit-identical to llama.cpp's.
/// </summary>
internal static class KQuantDequantize
{
    private const int QK = GgmlTypeInfo.QK_K;

    /// <summary>Block: scales[16] (4-bit scale | 4-bit min), qs[64] (2-bit), f16 d, f16 dmin.</summary>
    public static void Q2K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 84, 84);
            var scales = block[..16];
            var qs = block.Slice(16, 64);
            var d = Half16(block, 80);
            var min = Half16(block, 82);
            var y = destination.Slice(b * QK, QK);
            var at = 0;
            var scaleIndex = 0;
            for (var half = 0; half < 2; half++)
            {
                var q = qs.Slice(half * 32, 32);
                for (var shift = 0; shift < 8; shift += 2)
                {
                    for (var part = 0; part < 2; part++)
                    {
                        var sc = scales[scaleIndex++];
                        var dl = d * (sc & 0xF);
                        var ml = min * (sc >> 4);
                        for (var l = 0; l < 16; l++) y[at++] = dl * ((q[l + 16 * part] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /// <summary>Block: hmask[32] (third bit), qs[64] (low 2 bits), scales[12] (sixteen 6-bit scales), f16 d.</summary>
    public static void Q3K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        Span<sbyte> scales = stackalloc sbyte[16];
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 110, 110);
            var hm = block[..32];
            var qs = block.Slice(32, 64);
            UnpackQ3Scales(block.Slice(96, 12), scales);
            var dAll = Half16(block, 108);
            var y = destination.Slice(b * QK, QK);
            var at = 0;
            var scaleIndex = 0;
            var mask = 1;
            for (var half = 0; half < 2; half++)
            {
                var q = qs.Slice(half * 32, 32);
                for (var shift = 0; shift < 8; shift += 2)
                {
                    for (var part = 0; part < 2; part++)
                    {
                        var dl = dAll * (scales[scaleIndex++] - 32);
                        for (var l = 0; l < 16; l++)
                        {
                            var i = l + 16 * part;
                            y[at++] = dl * (((q[i] >> shift) & 3) - ((hm[i] & mask) != 0 ? 0 : 4));
                        }
                    }
                    mask <<= 1;
                }
            }
        }
    }

    /// <summary>The sixteen 6-bit scales of a Q3_K block: low nibbles in bytes 0-7, high pairs in bytes 8-11.</summary>
    public static void UnpackQ3Scales(ReadOnlySpan<byte> packed, Span<sbyte> scales)
    {
        var a0 = BinaryPrimitives.ReadUInt32LittleEndian(packed);
        var a1 = BinaryPrimitives.ReadUInt32LittleEndian(packed[4..]);
        var tmp = BinaryPrimitives.ReadUInt32LittleEndian(packed[8..]);
        const uint low2 = 0x03030303, low4 = 0x0f0f0f0f;
        Span<uint> aux =
        [
            (a0 & low4) | (((tmp >> 0) & low2) << 4),
            (a1 & low4) | (((tmp >> 2) & low2) << 4),
            ((a0 >> 4) & low4) | (((tmp >> 4) & low2) << 4),
            ((a1 >> 4) & low4) | (((tmp >> 6) & low2) << 4),
        ];
        for (var i = 0; i < 16; i++) scales[i] = (sbyte)(aux[i / 4] >> (8 * (i % 4)));
    }

    /// <summary>Block: f16 d, f16 dmin, scales[12] (eight 6-bit scale/min pairs), qs[128] (4-bit).</summary>
    public static void Q4K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 144, 144);
            var d = Half16(block, 0);
            var min = Half16(block, 2);
            var scales = block.Slice(4, 12);
            var y = destination.Slice(b * QK, QK);
            for (var j = 0; j < 4; j++)
            {
                var q = block.Slice(16 + 32 * j, 32);
                ScaleMinK4(2 * j, scales, out var sc, out var m);
                var d1 = d * sc;
                var m1 = min * m;
                ScaleMinK4(2 * j + 1, scales, out sc, out m);
                var d2 = d * sc;
                var m2 = min * m;
                var lo = y.Slice(64 * j, 32);
                var hi = y.Slice(64 * j + 32, 32);
                for (var l = 0; l < 32; l++) lo[l] = d1 * (q[l] & 0xF) - m1;
                for (var l = 0; l < 32; l++) hi[l] = d2 * (q[l] >> 4) - m2;
            }
        }
    }

    /// <summary>Block: f16 d, f16 dmin, scales[12], qh[32] (fifth bit), qs[128] (low 4 bits).</summary>
    public static void Q5K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 176, 176);
            var d = Half16(block, 0);
            var min = Half16(block, 2);
            var scales = block.Slice(4, 12);
            var qh = block.Slice(16, 32);
            var y = destination.Slice(b * QK, QK);
            int u1 = 1, u2 = 2;
            for (var j = 0; j < 4; j++)
            {
                var ql = block.Slice(48 + 32 * j, 32);
                ScaleMinK4(2 * j, scales, out var sc, out var m);
                var d1 = d * sc;
                var m1 = min * m;
                ScaleMinK4(2 * j + 1, scales, out sc, out m);
                var d2 = d * sc;
                var m2 = min * m;
                var lo = y.Slice(64 * j, 32);
                var hi = y.Slice(64 * j + 32, 32);
                for (var l = 0; l < 32; l++) lo[l] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                for (var l = 0; l < 32; l++) hi[l] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /// <summary>Block: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], f16 d.</summary>
    public static void Q6K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 210, 210);
            var d = Half16(block, 208);
            var y = destination.Slice(b * QK, QK);
            for (var half = 0; half < 2; half++)
            {
                var ql = block.Slice(64 * half, 64);
                var qh = block.Slice(128 + 32 * half, 32);
                var sc = block.Slice(192 + 8 * half, 8);
                var yh = y.Slice(128 * half, 128);
                for (var l = 0; l < 32; l++)
                {
                    var s = l / 16;
                    var q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                    var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yh[l] = d * (sbyte)sc[s] * q1;
                    yh[l + 32] = d * (sbyte)sc[s + 2] * q2;
                    yh[l + 64] = d * (sbyte)sc[s + 4] * q3;
                    yh[l + 96] = d * (sbyte)sc[s + 6] * q4;
                }
            }
        }
    }

    /// <summary>Block: f32 d, int8 qs[256], int16 bsums[16] (sums of 16 quants, unused here).</summary>
    public static void Q8K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / QK; b++)
        {
            var block = source.Slice(b * 292, 292);
            var d = BinaryPrimitives.ReadSingleLittleEndian(block);
            var y = destination.Slice(b * QK, QK);
            for (var j = 0; j < QK; j++) y[j] = d * (sbyte)block[4 + j];
        }
    }

    /// <summary>Scale and min of sub-block <paramref name="j"/> (0-7) from the 12 packed bytes of Q4_K/Q5_K.</summary>
    public static void ScaleMinK4(int j, ReadOnlySpan<byte> q, out byte scale, out byte min)
    {
        if (j < 4)
        {
            scale = (byte)(q[j] & 63);
            min = (byte)(q[j + 4] & 63);
        }
        else
        {
            scale = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            min = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    private static float Half16(ReadOnlySpan<byte> block, int at) => (float)BinaryPrimitives.ReadHalfLittleEndian(block[at..]);
}
