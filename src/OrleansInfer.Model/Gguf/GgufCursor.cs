using System.Buffers.Binary;
using System.Text;

namespace OrleansInfer.Model.Gguf;

/// <summary>
/// Bounds-checked little-endian reads over the mapped header. Every failure is a
/// <see cref="ModelFormatException"/> naming the offset, never an index or out-of-memory error.
/// </summary>
internal unsafe struct GgufCursor(byte* start, long length, string path)
{
    public long Position;

    public readonly long Remaining => length - Position;

    public readonly ModelFormatException Error(string reason, long? at = null) => new(reason, at ?? Position, path);

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || Remaining < count)
            throw Error($"file truncated while reading {what} (needs {count} bytes, {Remaining} left)");
        var span = new ReadOnlySpan<byte>(start + Position, count);
        Position += count;
        return span;
    }

    public byte ReadUInt8(string what) => Take(1, what)[0];
    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
    public float ReadFloat32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    public double ReadFloat64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A count that must fit in what is left of the file at <paramref name="minItemBytes"/> bytes per item.</summary>
    public int ReadCount(string what, int minItemBytes)
    {
        var at = Position;
        var count = ReadUInt64(what);
        if (count > int.MaxValue || (minItemBytes > 0 && count > (ulong)(Remaining / minItemBytes)))
            throw Error($"{what} {count} exceeds what the file can hold ({Remaining} bytes left)", at);
        return (int)count;
    }

    public string ReadString(string what)
    {
        var at = Position;
        var len = ReadUInt64($"length of {what}");
        if (len > (ulong)Remaining)
            throw Error($"length {len} of {what} exceeds the file ({Remaining} bytes left)", at);
        var bytes = Take((int)len, what);
        // llama.cpp stores arbitrary bytes in token strings; invalid UTF-8 becomes U+FFFD here,
        // which only matters for display (byte tokens are decoded from their <0xXX> names).
        return Encoding.UTF8.GetString(bytes);
    }
}
