namespace OrleansInfer.Model.Tensors;

/// <summary>
/// A tensor read in place: its element type, its shape (ne0 first: a 2-D weight of shape [In, Out] stores
/// Out rows of In contiguous values) and a pointer into the memory-mapped file (or another owner's memory).
/// </summary>
public sealed unsafe class TensorView
{
    public TensorView(string name, GgmlType type, long[] shape, byte* data, long byteCount)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Data = data;
        ByteCount = byteCount;
    }

    public string Name { get; }

    public GgmlType Type { get; }

    /// <summary>Dimensions, innermost (contiguous) first, as in ggml.</summary>
    public long[] Shape { get; }

    public byte* Data { get; }

    public long ByteCount { get; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Length of the contiguous dimension (the input size of a weight matrix).</summary>
    public long Columns => Shape[0];

    /// <summary>Product of the outer dimensions (the output size of a weight matrix).</summary>
    public long Rows => Shape.Length == 1 ? 1 : ElementCount / Shape[0];

    public ReadOnlySpan<byte> Bytes => ByteCount <= int.MaxValue
        ? new ReadOnlySpan<byte>(Data, (int)ByteCount)
        : throw new InvalidOperationException($"tensor {Name} is larger than 2 GiB; read it by rows");

    /// <summary>Bytes of one row (Columns elements).</summary>
    public long RowBytes => GgmlTypeInfo.ByteCount(Type, Columns);

    /// <summary>Dequantizes rows [row, row + count) into <paramref name="destination"/> (count * Columns floats).</summary>
    public void ReadRows(long row, int count, Span<float> destination)
    {
        if (row < 0 || row + count > Rows) throw new ArgumentOutOfRangeException(nameof(row));
        var cols = checked((int)Columns);
        if (destination.Length < count * cols) throw new ArgumentException("destination too small", nameof(destination));
        var rowBytes = RowBytes;
        for (var r = 0; r < count; r++)
        {
            var src = new ReadOnlySpan<byte>(Data + (row + r) * rowBytes, (int)rowBytes);
            Dequantize.Row(Type, src, destination.Slice(r * cols, cols));
        }
    }

    /// <summary>
    /// Rows [<paramref name="firstRow"/>, +<paramref name="rowCount"/>) of a matrix as a matrix of its own, in place
    /// (phi3's fused attn_qkv and ffn_up are split this way). <paramref name="name"/> must be unique in the model.
    /// </summary>
    public TensorView RowSlice(string name, long firstRow, long rowCount)
    {
        if (Shape.Length != 2) throw new InvalidOperationException($"tensor {Name} is not a matrix; only matrices are sliced by rows");
        if (firstRow < 0 || rowCount <= 0 || firstRow + rowCount > Rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + rowCount}) are outside tensor {Name} ({Rows} rows)");
        return new TensorView(name, Type, [Columns, rowCount], Data + firstRow * RowBytes, rowCount * RowBytes);
    }

    /// <summary>The whole tensor as f32 (for small tensors: norms, tests).</summary>
    public float[] ToFloatArray()
    {
        var result = new float[checked((int)ElementCount)];
        ReadRows(0, checked((int)Rows), result);
        return result;
    }
}
