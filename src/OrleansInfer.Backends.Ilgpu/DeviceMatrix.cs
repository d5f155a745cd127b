using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Util;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Model.Tensors;
using Half = ILGPU.Half;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>How a weight matrix is kept on the device.</summary>
public enum WeightFormat
{
    F32,
    F16,

    /// <summary>Q8_0 kept quantized (int8 values + one f16 scale per 32), dequantized inside the matmul kernels.</summary>
    Q8_0,

    /// <summary>Q4_0 kept packed (row-order nibbles + one f16 scale per 32), see <see cref="Q40Rows"/>.</summary>
    Q4_0,

    /// <summary>Q4_K kept packed (nibbles, unpacked 6-bit scale/min per 32, f16 d/dmin per 256), see <see cref="Q4KRows"/>.</summary>
    Q4_K,

    /// <summary>Q6_K kept packed (nibbles + 2 high bits, int8 scale per 16, f16 d per 256), see <see cref="Q6KRows"/>.</summary>
    Q6_K,

    /// <summary>Tensors of different types stacked by rows, each kept in its own format (<see cref="DeviceMatrix.Segments"/>).</summary>
    Mixed,
}

/// <summary>
/// A weight matrix on the device, made of one or more GGUF tensors stacked by rows (Wq/Wk/Wv, W1/W3), uploaded
/// once. F32 and F16 stay as they are; Q8_0, Q4_0, Q4_K and Q6_K stay quantized, repacked into the layouts of
/// <see cref="Q8Rows"/> and <see cref="IPackedWeightRows"/>; BF16 becomes f32 (its range) and other quantized types
/// f16. f32/f16 rows are padded to a multiple of 8 values so the decode kernel's 16-byte loads stay aligned
/// (quantized rows are whole blocks already).
/// </summary>
internal sealed unsafe partial class DeviceMatrix : IDisposable
{
    // Host-side conversion works through slices of at most this many values.
    private const int ChunkValues = 1 << 22;

    private readonly List<MemoryBuffer> _buffers = [];

    private DeviceMatrix(WeightFormat format, int rows, int cols)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        Ld = format is WeightFormat.F32 or WeightFormat.F16 ? (cols + 7) & ~7 : cols;
    }

    public WeightFormat Format { get; }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Row stride in values.</summary>
    public int Ld { get; }

    public F32Rows F32 { get; private set; }

    public F16Rows F16 { get; private set; }

    public Q8Rows Q8 { get; private set; }

    public Q40Rows Q40 { get; private set; }

    public Q4KRows Q4K { get; private set; }

    public Q6KRows Q6K { get; private set; }

    /// <summary>For <see cref="WeightFormat.Mixed"/>: the stacked tensors, one matrix each, in row order.</summary>
    public IReadOnlyList<DeviceMatrix>? Segments { get; private init; }

    /// <summary>The formats the matrix holds (its segments' for a mixed stack).</summary>
    public IEnumerable<WeightFormat> Formats => Segments?.SelectMany(s => s.Formats) ?? [Format];

    public long Bytes => Segments?.Sum(s => s.Bytes) ?? _buffers.Sum(b => b.LengthInBytes);

    /// <summary>
    /// Stacks <paramref name="parts"/> whose products are stored side by side (Wq/Wk/Wv): when their types differ
    /// (Q4_K_M files keep some Wv in Q6_K), each part keeps its own format as a segment, launched on its own, instead
    /// of all of them falling back to f16.
    /// </summary>
    public static DeviceMatrix Stack(Accelerator accelerator, params TensorView[] parts)
    {
        if (parts.All(p => p.Type == parts[0].Type)) return Upload(accelerator, parts);
        var segments = new List<DeviceMatrix>();
        try
        {
            foreach (var p in parts) segments.Add(Upload(accelerator, p));
        }
        catch
        {
            foreach (var m in segments) m.Dispose();
            throw;
        }
        return new DeviceMatrix(WeightFormat.Mixed, segments.Sum(m => m.Rows), segments[0].Cols) { Segments = segments };
    }

    /// <summary>Uploads <paramref name="parts"/> stacked by rows (all with the same column count) in one format.</summary>
    public static DeviceMatrix Upload(Accelerator accelerator, params TensorView[] parts)
    {
        var cols = checked((int)parts[0].Columns);
        if (parts.Any(p => p.Columns != cols)) throw new ArgumentException($"stacked tensors differ in columns: {string.Join(", ", parts.Select(p => $"{p.Name} {p.Columns}"))}");
        var rows = checked((int)parts.Sum(p => p.Rows));
        var m = new DeviceMatrix(FormatFor(parts), rows, cols);
        try
        {
            m.Allocate(accelerator);
            long row = 0;
            foreach (var p in parts)
            {
                m.Write(p, row);
                row += p.Rows;
            }
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    private static WeightFormat FormatFor(TensorView[] parts)
    {
        var type = parts[0].Type;
        if (parts.Any(p => p.Type != type)) return parts.Any(p => p.Type is GgmlType.F32 or GgmlType.BF16) ? WeightFormat.F32 : WeightFormat.F16;
        return type switch
        {
            GgmlType.F32 or GgmlType.BF16 => WeightFormat.F32,
            GgmlType.Q8_0 when parts[0].Columns % 32 == 0 => WeightFormat.Q8_0,
            GgmlType.Q4_0 when parts[0].Columns % 32 == 0 => WeightFormat.Q4_0,
            GgmlType.Q4_K => WeightFormat.Q4_K,
            GgmlType.Q6_K => WeightFormat.Q6_K,
            _ => WeightFormat.F16,
        };
    }

    private void Allocate(Accelerator a)
    {
        var values = (long)Rows * Ld;
        switch (Format)
        {
            case WeightFormat.F32:
            {
                var b = Track(a.Allocate1D<float>(values));
                var view = (ArrayView<float>)b.View;
                F32 = new F32Rows { Data = view, Quads = view.Cast<Float4>(), ColCount = Cols, Ld = Ld };
                break;
            }
            case WeightFormat.F16:
            {
                var b = Track(a.Allocate1D<Half>(values));
                var view = (ArrayView<Half>)b.View;
                F16 = new F16Rows { Data = view, Octets = view.Cast<Int4>(), ColCount = Cols, Ld = Ld };
                break;
            }
            case WeightFormat.Q8_0:
            {
                var q = Allocate<sbyte>(a, values);
                Q8 = new Q8Rows { Quants = q, QuantOctets = q.Cast<Int2>(), Scales = Allocate<Half>(a, values / 32), ColCount = Cols, Ld = Ld };
                break;
            }
            case WeightFormat.Q4_0:
            {
                var q = Allocate<byte>(a, values / 2);
                Q40 = new Q40Rows { Nibbles = q, NibbleWords = q.Cast<int>(), NibbleQuads = q.Cast<Int4>(), Scales = Allocate<Half>(a, values / 32), ColCount = Cols, Ld = Ld };
                break;
            }
            case WeightFormat.Q4_K:
            {
                var q = Allocate<byte>(a, values / 2);
                Q4K = new Q4KRows
                {
                    Nibbles = q, NibbleWords = q.Cast<int>(), NibbleQuads = q.Cast<Int4>(),
                    ScaleMins = Allocate<ushort>(a, values / 32), SuperScales = Allocate<int>(a, values / 256), ColCount = Cols, Ld = Ld,
                };
                break;
            }
            default:
            {
                var q = Allocate<byte>(a, values / 2);
                var h = Allocate<byte>(a, values / 4);
                var s = Allocate<sbyte>(a, values / 16);
                Q6K = new Q6KRows
                {
                    Nibbles = q, NibbleWords = q.Cast<int>(), NibbleQuads = q.Cast<Int4>(),
                    HighBits = h, HighWords = h.Cast<ushort>(), HighQuads = h.Cast<Int2>(),
                    Scales = s, ScalePairs = s.Cast<short>(), SuperScales = Allocate<Half>(a, values / 256), ColCount = Cols, Ld = Ld,
                };
                break;
            }
        }
    }

    private ArrayView<T> Allocate<T>(Accelerator a, long length) where T : unmanaged => (ArrayView<T>)Track(a.Allocate1D<T>(length)).View;

    private MemoryBuffer1D<T, Stride1D.Dense> Track<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        _buffers.Add(buffer);
        return buffer;
    }

    /// <summary>Writes tensor <paramref name="t"/> at row <paramref name="firstRow"/>, converting on the host only when the format differs.</summary>
    private void Write(TensorView t, long firstRow)
    {
        var offset = firstRow * Ld;
        var count = t.Rows * Ld;
        if (Format == WeightFormat.F32 && t.Type == GgmlType.F32 && Ld == Cols)
        {
            F32.Data.SubView(offset, count).CopyFromCPU(ref Unsafe.AsRef<float>(t.Data), count);
            return;
        }
        if (Format == WeightFormat.F16 && t.Type == GgmlType.F16 && Ld == Cols)
        {
            // GGUF F16 and ILGPU.Half share the IEEE binary16 bits.
            F16.Data.SubView(offset, count).CopyFromCPU(ref Unsafe.AsRef<Half>(t.Data), count);
            return;
        }
        if (Format == WeightFormat.Q8_0 && t.Type == GgmlType.Q8_0)
        {
            WriteQ8(t, firstRow);
            return;
        }
        if (Format is WeightFormat.Q4_0 or WeightFormat.Q4_K or WeightFormat.Q6_K)
        {
            WritePacked(t, firstRow);
            return;
        }

        var rowsPerChunk = (int)Math.Max(1, ChunkValues / Ld);
        var f32 = new float[rowsPerChunk * Ld];
        var f16 = Format == WeightFormat.F16 ? new Half[f32.Length] : null;
        for (long r = 0; r < t.Rows; r += rowsPerChunk)
        {
            var n = (int)Math.Min(rowsPerChunk, t.Rows - r);
            for (var i = 0; i < n; i++) t.ReadRows(r + i, 1, f32.AsSpan(i * Ld, Cols));
            var at = offset + r * Ld;
            if (f16 is null)
            {
                F32.Data.SubView(at, (long)n * Ld).CopyFromCPU(ref f32[0], (long)n * Ld);
                continue;
            }
            for (var i = 0; i < n * Ld; i++) f16[i] = (Half)f32[i];
            F16.Data.SubView(at, (long)n * Ld).CopyFromCPU(ref f16[0], (long)n * Ld);
        }
    }

    public void Dispose()
    {
        foreach (var m in Segments ?? []) m.Dispose();
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
