using System.Runtime.Intrinsics.X86;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized;

/// <summary>Tests that set <see cref="Simd.Level"/> run alone: the level is process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimdLevelCollection
{
    public const string Name = "K-quant kernels at each SIMD level";
}

/// <summary>K-quant test blocks and an exact (double) reading of them, written from ggml's dequantize_row_q*_K.</summary>
internal static class KQuantTestData
{
    public enum Kind { Q4K, Q5K, Q6K }

    public static int BlockBytes(Kind kind) => kind switch { Kind.Q4K => 144, Kind.Q5K => 176, _ => 210 };

    /// <summary>Every level this CPU can run (AVX-VNNI is a separate feature even on AVX-512 CPUs).</summary>
    public static IEnumerable<SimdLevel> RunnableLevels() =>
        Enum.GetValues<SimdLevel>().Where(l => l <= Simd.Detected && (l != SimdLevel.AvxVnni || AvxVnni.IsSupported));

    /// <summary>Runs <paramref name="body"/> at <paramref name="level"/> and restores the level.</summary>
    public static void At(SimdLevel level, Action body)
    {
        var saved = Simd.Level;
        Simd.Level = level;
        try { body(); }
        finally { Simd.Level = saved; }
    }

    /// <summary>Random bytes with the f16 scales replaced by finite values in [1e-3, 1e-2] (ggml-sized).</summary>
    public static byte[] RandomRows(Kind kind, int rows, int k, Random rng)
    {
        var bytes = new byte[rows * k / 256 * BlockBytes(kind)];
        rng.NextBytes(bytes);
        for (var b = 0; b < bytes.Length; b += BlockBytes(kind))
        {
            if (kind == Kind.Q6K) WriteHalf(bytes, b + 208, 1e-3 + rng.NextDouble() * 9e-3);
            else
            {
                WriteHalf(bytes, b, 1e-3 + rng.NextDouble() * 9e-3);
                WriteHalf(bytes, b + 2, 1e-3 + rng.NextDouble() * 9e-3);
            }
        }
        return bytes;
    }

    public static void WriteHalf(byte[] bytes, int offset, double value)
        => BitConverter.TryWriteBytes(bytes.AsSpan(offset), BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>
    /// Weight i of a row as its two exact parts: scaled[i] = d·scale·q and min[i] = dmin·m (Q6_K: d·scale·(q - 32)
    /// and 0), so the weight is scaled - min.
    /// </summary>
    public static (double[] Scaled, double[] Min) Dequantize(Kind kind, ReadOnlySpan<byte> row, int k)
    {
        var scaled = new double[k];
        var min = new double[k];
        var blockBytes = BlockBytes(kind);
        for (var b = 0; b < k / 256; b++)
        {
            var block = row.Slice(b * blockBytes, blockBytes);
            var y = b * 256;
            if (kind == Kind.Q6K)
            {
                var d = Half(block, 208);
                for (var half = 0; half < 2; half++)
                {
                    var ql = block[(64 * half)..];
                    var qh = block[(128 + 32 * half)..];
                    var sc = block[(192 + 8 * half)..];
                    for (var l = 0; l < 32; l++)
                    {
                        var isc = l / 16;
                        var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        var o = y + 128 * half + l;
                        scaled[o] = d * (sbyte)sc[isc] * q1;
                        scaled[o + 32] = d * (sbyte)sc[isc + 2] * q2;
                        scaled[o + 64] = d * (sbyte)sc[isc + 4] * q3;
                        scaled[o + 96] = d * (sbyte)sc[isc + 6] * q4;
                    }
                }
                continue;
            }
            var dall = Half(block, 0);
            var dmin = Half(block, 2);
            var scales = block.Slice(4, 12);
            var qs = block[(kind == Kind.Q4K ? 16 : 48)..];
            var qhBits = block.Slice(16, 32);
            for (var j = 0; j < 4; j++)
            {
                var (sc1, m1) = ScaleMin(2 * j, scales);
                var (sc2, m2) = ScaleMin(2 * j + 1, scales);
                for (var l = 0; l < 32; l++)
                {
                    int lo = qs[32 * j + l] & 0xF, hi = qs[32 * j + l] >> 4;
                    if (kind == Kind.Q5K)
                    {
                        lo += ((qhBits[l] >> (2 * j)) & 1) << 4;
                        hi += ((qhBits[l] >> (2 * j + 1)) & 1) << 4;
                    }
                    scaled[y + 64 * j + l] = dall * sc1 * lo;
                    min[y + 64 * j + l] = dmin * m1;
                    scaled[y + 64 * j + 32 + l] = dall * sc2 * hi;
                    min[y + 64 * j + 32 + l] = dmin * m2;
                }
            }
        }
        return (scaled, min);
    }

    /// <summary>The activations a Q8_K row stands for: d·q per value.</summary>
    public static double[] DequantizeQ8K(ReadOnlySpan<byte> row, int k)
    {
        var x = new double[k];
        for (var b = 0; b < k / 256; b++)
        {
            var d = BitConverter.ToSingle(row[(b * 292)..]);
            for (var i = 0; i < 256; i++) x[b * 256 + i] = d * (double)(sbyte)row[b * 292 + 4 + i];
        }
        return x;
    }

    /// <summary>ggml's get_scale_min_k4.</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    private static double Half(ReadOnlySpan<byte> block, int offset)
        => (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(block[offset..]));
}
