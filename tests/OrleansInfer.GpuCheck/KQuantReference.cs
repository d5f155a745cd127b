using System.Buffers.Binary;

namespace OrleansInfer.GpuCheck;

/// <summary>
/// Scalar Q4_K and Q6_K dequantization as ggml-quants.c's dequantize_row_q4_K / _q6_K define it: the reference the
/// ILGPU kernels are checked against, independent of the backend's repacking.
/// </summary>
public static class KQuantReference
{
    /// <summary>Q4_K, 144 bytes per 256 values: f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) pairs, 128 of nibbles.</summary>
    public static void Q4K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / 256; b++)
        {
            var block = source.Slice(b * 144, 144);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var scales = block.Slice(4, 12);
            var qs = block[16..];
            var y = destination.Slice(b * 256, 256);
            for (var g = 0; g < 4; g++)
            {
                var (sc1, m1) = ScaleMin(2 * g, scales);
                var (sc2, m2) = ScaleMin(2 * g + 1, scales);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                for (var l = 0; l < 32; l++)
                {
                    y[64 * g + l] = d1 * (qs[32 * g + l] & 0xF) - min1;
                    y[64 * g + 32 + l] = d2 * (qs[32 * g + l] >> 4) - min2;
                }
            }
        }
    }

    /// <summary>ggml's get_scale_min_k4: pairs 0..3 in the low 6 bits of bytes 0..7, pairs 4..7 split over bytes 8..11 and the top bits.</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>Q6_K, 210 bytes per 256 values: 128 bytes of low nibbles, 64 of 2-bit highs, 16 int8 scales, f16 d.</summary>
    public static void Q6K(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var b = 0; b < destination.Length / 256; b++)
        {
            var block = source.Slice(b * 210, 210);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[208..]);
            for (var half = 0; half < 2; half++)
            {
                var ql = block.Slice(64 * half, 64);
                var qh = block.Slice(128 + 32 * half, 32);
                var sc = block.Slice(192 + 8 * half, 8);
                var y = destination.Slice(b * 256 + 128 * half, 128);
                for (var l = 0; l < 32; l++)
                {
                    var s = l / 16;
                    y[l] = d * (sbyte)sc[s] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
                    y[l + 32] = d * (sbyte)sc[s + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    y[l + 64] = d * (sbyte)sc[s + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    y[l + 96] = d * (sbyte)sc[s + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
            }
        }
    }
}
