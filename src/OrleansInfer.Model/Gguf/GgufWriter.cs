using System.Text;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Gguf;

/// <summary>
/// Writes GGUF v3 files that llama.cpp reads: metadata in insertion order, tensor infos, then tensor data
/// at aligned offsets. Tensor data is produced by callbacks at write time, so large models stream to disk.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    public GgufWriter(uint alignment = GgufFile.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentException("alignment must be a power of two", nameof(alignment));
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment) Add("general.alignment", GgufValue.Of(alignment));
    }

    public uint Alignment { get; }

    /// <summary>The metadata added so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Entries => _metadata;

    public IReadOnlyList<string> TensorNames => _tensors.Select(t => t.Info.Name).ToList();

    public GgufWriter Add(string key, GgufValue value)
    {
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' was already added", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a tensor whose bytes <paramref name="writeData"/> writes to the stream it is given (exactly the tensor's byte count).</summary>
    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, Action<Stream> writeData)
    {
        if (!_tensorNames.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (shape.Length is 0 or > 4 || shape.Any(d => d <= 0)) throw new ArgumentException($"tensor '{name}' has an invalid shape", nameof(shape));
        if (shape[0] % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size", nameof(shape));
        _tensors.Add(new PendingTensor(new GgufTensorInfo(name, shape, type, 0), writeData));
        return this;
    }

    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, ReadOnlyMemory<byte> data)
    {
        var expected = GgmlTypeInfo.ByteCount(type, shape.Aggregate(1L, (a, b) => a * b));
        if (data.Length != expected) throw new ArgumentException($"tensor '{name}' needs {expected} bytes, got {data.Length}", nameof(data));
        return AddTensor(name, shape, type, s => s.Write(data.Span));
    }

    /// <summary>Adds an f32 source encoded to <paramref name="type"/> row by row while writing.</summary>
    public GgufWriter AddTensor(string name, long[] shape, GgmlType type, ReadOnlyMemory<float> values)
    {
        var rowLength = (int)shape[0];
        return AddTensor(name, shape, type, s => WriteEncodedRows(s, type, rowLength, values.Length / rowLength, (r, dst) => values.Span.Slice((int)r * rowLength, rowLength).CopyTo(dst)));
    }

    /// <summary>Encodes rows produced by <paramref name="fillRow"/> into <paramref name="type"/>, one row buffer reused.</summary>
    public static void WriteEncodedRows(Stream stream, GgmlType type, int rowLength, long rows, Action<long, Span<float>> fillRow)
    {
        var src = new float[rowLength];
        var dst = new byte[GgmlTypeInfo.ByteCount(type, rowLength)];
        for (long r = 0; r < rows; r++)
        {
            fillRow(r, src);
            Quantize.Row(type, src, dst);
            stream.Write(dst);
        }
    }

    public void WriteTo(string path, IProgress<double>? progress = null)
    {
        var tmp = path + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(fs, progress);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    public void WriteTo(Stream stream, IProgress<double>? progress = null)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value.Type, value.Value);
        }

        ulong offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Info.Name);
            w.Write((uint)t.Info.Shape.Length);
            foreach (var d in t.Info.Shape) w.Write((ulong)d);
            w.Write((uint)t.Info.Type);
            w.Write(offset);
            offset += (ulong)GgufFile.AlignUp(t.Info.ByteCount, Alignment);
        }
        w.Flush();

        var total = Math.Max(1.0, offset);
        long written = 0;
        Pad(stream, Alignment);
        foreach (var t in _tensors)
        {
            var start = stream.Position;
            t.WriteData(stream);
            var length = stream.Position - start;
            if (length != t.Info.ByteCount)
                throw new InvalidOperationException($"tensor '{t.Info.Name}' wrote {length} bytes, expected {t.Info.ByteCount}");
            Pad(stream, Alignment);
            written += GgufFile.AlignUp(length, Alignment);
            progress?.Report(written / total);
        }
        stream.Flush();
    }

    private static void Pad(Stream stream, uint alignment)
    {
        var pad = (int)(GgufFile.AlignUp(stream.Position, alignment) - stream.Position);
        Span<byte> zeros = stackalloc byte[pad];
        zeros.Clear();
        stream.Write(zeros);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                w.Write((uint)array.ElementType);
                w.Write((ulong)array.Count);
                foreach (var item in array.Items) WriteValue(w, array.ElementType, item!);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "unknown GGUF value type");
        }
    }

    private sealed record PendingTensor(GgufTensorInfo Info, Action<Stream> WriteData);
}
