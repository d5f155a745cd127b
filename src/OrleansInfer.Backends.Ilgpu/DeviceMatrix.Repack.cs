using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Model.Tensors;
using Half = ILGPU.Half;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>Host-side repacking of ggml blocks into the device layouts of the quantized formats.</summary>
internal sealed unsafe partial class DeviceMatrix
{
    /// <summary>Splits ggml's 34-byte Q8_0 blocks (f16 scale, 32 int8) into the quants and scales arrays.</summary>
    private void WriteQ8(TensorView t, long firstRow)
    {
        var blocksPerRow = Cols / 32;
        var rowsPerChunk = Math.Max(1, ChunkValues / Cols);
        var quants = new sbyte[rowsPerChunk * Cols];
        var scales = new ushort[rowsPerChunk * blocksPerRow];
        for (long r = 0; r < t.Rows; r += rowsPerChunk)
        {
            var n = (int)Math.Min(rowsPerChunk, t.Rows - r);
            var src = t.Data + r * t.RowBytes;
            for (var b = 0; b < n * blocksPerRow; b++)
            {
                var block = src + b * 34L;
                scales[b] = *(ushort*)block;
                new ReadOnlySpan<sbyte>(block + 2, 32).CopyTo(quants.AsSpan(b * 32, 32));
            }
            Q8.Quants.SubView((firstRow + r) * Cols, (long)n * Cols).CopyFromCPU(ref quants[0], (long)n * Cols);
            Q8.Scales.SubView((firstRow + r) * blocksPerRow, (long)n * blocksPerRow).CopyFromCPU(ref Unsafe.As<ushort, Half>(ref scales[0]), (long)n * blocksPerRow);
        }
    }


    /// <summary>
    /// Repacks Q4_0, Q4_K or Q6_K blocks into row-order codes (<see cref="Kernels.IPackedWeightRows"/>) and their
    /// scale arrays, a slice of rows at a time.
    /// </summary>
    private void WritePacked(TensorView t, long firstRow)
    {
        var blockValues = GgmlTypeInfo.BlockSize(t.Type);
        var blockBytes = GgmlTypeInfo.BlockBytes(t.Type);
        var rowsPerChunk = Math.Max(1, ChunkValues / Cols);
        var host = new PackedHost(rowsPerChunk * Cols);
        Span<byte> codes = stackalloc byte[blockValues];
        for (long r = 0; r < t.Rows; r += rowsPerChunk)
        {
            var n = (int)Math.Min(rowsPerChunk, t.Rows - r);
            var values = n * Cols;
            var src = t.Data + r * t.RowBytes;
            for (var b = 0; b < values / blockValues; b++)
            {
                var block = src + (long)b * blockBytes;
                var at = b * blockValues;
                switch (Format)
                {
                    case WeightFormat.Q4_0: Q40Codes(block, codes); host.Scales[b] = *(ushort*)block; break;
                    case WeightFormat.Q4_K: Q4KCodes(block, codes, host.Scales.AsSpan(at / 32, 8)); host.Supers[b] = *(uint*)block; break;
                    default: Q6KCodes(block, codes, host.SignedScales.AsSpan(at / 16, 16)); host.Supers[b] = *(ushort*)(block + 208); break;
                }
                for (var i = 0; i < blockValues / 2; i++) host.Nibbles[at / 2 + i] = (byte)((codes[2 * i] & 0xF) | ((codes[2 * i + 1] & 0xF) << 4));
                if (Format != WeightFormat.Q6_K) continue;
                for (var i = 0; i < blockValues / 4; i++)
                {
                    var h = 0;
                    for (var j = 0; j < 4; j++) h |= ((codes[4 * i + j] >> 4) & 3) << (2 * j);
                    host.High[at / 4 + i] = (byte)h;
                }
            }
            CopyPacked(host, (firstRow + r) * Cols, values);
        }
    }

    private void CopyPacked(PackedHost host, long at, long values)
    {
        switch (Format)
        {
            case WeightFormat.Q4_0:
                Q40.Nibbles.SubView(at / 2, values / 2).CopyFromCPU(ref host.Nibbles[0], values / 2);
                Q40.Scales.SubView(at / 32, values / 32).CopyFromCPU(ref Unsafe.As<ushort, Half>(ref host.Scales[0]), values / 32);
                break;
            case WeightFormat.Q4_K:
                Q4K.Nibbles.SubView(at / 2, values / 2).CopyFromCPU(ref host.Nibbles[0], values / 2);
                Q4K.ScaleMins.SubView(at / 32, values / 32).CopyFromCPU(ref host.Scales[0], values / 32);
                Q4K.SuperScales.SubView(at / 256, values / 256).CopyFromCPU(ref Unsafe.As<uint, int>(ref host.Supers[0]), values / 256);
                break;
            default:
                Q6K.Nibbles.SubView(at / 2, values / 2).CopyFromCPU(ref host.Nibbles[0], values / 2);
                Q6K.HighBits.SubView(at / 4, values / 4).CopyFromCPU(ref host.High[0], values / 4);
                Q6K.Scales.SubView(at / 16, values / 16).CopyFromCPU(ref host.SignedScales[0], values / 16);
                var d = new ushort[values / 256];
                for (var i = 0; i < d.Length; i++) d[i] = (ushort)host.Supers[i];
                Q6K.SuperScales.SubView(at / 256, values / 256).CopyFromCPU(ref Unsafe.As<ushort, Half>(ref d[0]), values / 256);
                break;
        }
    }

    /// <summary>Q4_0 (f16 d, 16 bytes): byte j holds value j (low nibble) and value j + 16 (high nibble).</summary>
    private static void Q40Codes(byte* block, Span<byte> codes)
    {
        var qs = block + 2;
        for (var j = 0; j < 16; j++)
        {
            codes[j] = (byte)(qs[j] & 0xF);
            codes[j + 16] = (byte)(qs[j] >> 4);
        }
    }

    /// <summary>
    /// Q4_K (f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles): each 64 values are 32 bytes,
    /// low nibbles first; the eight (sc, m) pairs are unpacked as ggml's get_scale_min_k4 reads them, sc | m ≪ 8.
    /// </summary>
    private static void Q4KCodes(byte* block, Span<byte> codes, Span<ushort> scaleMins)
    {
        var scales = block + 4;
        var qs = block + 16;
        for (var g = 0; g < 4; g++)
        {
            for (var l = 0; l < 32; l++)
            {
                codes[64 * g + l] = (byte)(qs[32 * g + l] & 0xF);
                codes[64 * g + 32 + l] = (byte)(qs[32 * g + l] >> 4);
            }
        }
        for (var j = 0; j < 8; j++)
        {
            int sc, m;
            if (j < 4)
            {
                sc = scales[j] & 63;
                m = scales[j + 4] & 63;
            }
            else
            {
                sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
                m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
            }
            scaleMins[j] = (ushort)(sc | (m << 8));
        }
    }

    /// <summary>
    /// Q6_K (128 bytes of low nibbles, 64 of 2-bit highs, 16 int8 scales, f16 d): per 128 values, ql byte l holds
    /// values l and l + 64 and ql byte l + 32 values l + 32 and l + 96; qh byte l their high bits at shifts 0, 4, 2, 6.
    /// The scales are already one per 16 values in row order.
    /// </summary>
    private static void Q6KCodes(byte* block, Span<byte> codes, Span<sbyte> scales)
    {
        for (var half = 0; half < 2; half++)
        {
            var ql = block + 64 * half;
            var qh = block + 128 + 32 * half;
            var y = 128 * half;
            for (var l = 0; l < 32; l++)
            {
                codes[y + l] = (byte)((ql[l] & 0xF) | ((qh[l] & 3) << 4));
                codes[y + l + 32] = (byte)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                codes[y + l + 64] = (byte)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                codes[y + l + 96] = (byte)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
        new ReadOnlySpan<sbyte>(block + 192, 16).CopyTo(scales);
    }

    /// <summary>Host staging arrays for one slice of rows of a packed format (sized for the largest use of each).</summary>
    private sealed class PackedHost(int values)
    {
        public byte[] Nibbles { get; } = new byte[values / 2];
        public byte[] High { get; } = new byte[values / 4];

        /// <summary>Q4_0: f16 d bits per 32; Q4_K: sc | m ≪ 8 per 32.</summary>
        public ushort[] Scales { get; } = new ushort[values / 32];

        /// <summary>Q6_K: int8 scale per 16.</summary>
        public sbyte[] SignedScales { get; } = new sbyte[values / 16];

        /// <summary>Q4_K: d | dmin ≪ 16 per 256; Q6_K: d bits per 256.</summary>
        public uint[] Supers { get; } = new uint[Math.Max(1, values / 256)];
    }
}
