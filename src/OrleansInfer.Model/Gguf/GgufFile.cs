using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Gguf;

/// <summary>
/// A GGUF (v2/v3) file opened for reading: metadata and tensor infos are parsed from a memory mapping,
/// tensor data stays in the mapping. Malformed files raise <see cref="ModelFormatException"/>.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const uint DefaultAlignment = 32;
    private const int MaxDimensions = 4;
    private const int MaxArrayNesting = 8;

    private readonly MappedFile _map;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(MappedFile map, uint version, GgufMetadata metadata, List<GgufTensorInfo> tensors, long dataOffset, uint alignment)
    {
        _map = map;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        Alignment = alignment;
        _tensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path => _map.Path;

    public uint Version { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>File offset where tensor data begins (aligned to <see cref="Alignment"/>).</summary>
    public long DataOffset { get; }

    public uint Alignment { get; }

    public long FileLength => _map.Length;

    public static GgufFile Open(string path)
    {
        var map = MappedFile.Open(path);
        try
        {
            return Parse(map);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public bool TryGetTensor(string name, out GgufTensorInfo info) => _tensorsByName.TryGetValue(name, out info!);

    /// <summary>The tensor's data, in place in the mapping.</summary>
    public TensorView View(GgufTensorInfo info) =>
        new(info.Name, info.Type, info.Shape, _map.Pointer + DataOffset + (long)info.Offset, info.ByteCount);

    public TensorView? View(string name) => TryGetTensor(name, out var info) ? View(info) : null;

    public void Dispose() => _map.Dispose();

    private static GgufFile Parse(MappedFile map)
    {
        var c = new GgufCursor(map.Pointer, map.Length, map.Path);
        var magic = c.ReadUInt32("magic");
        if (magic != Magic)
            throw c.Error($"bad magic 0x{magic:X8} (expected \"GGUF\")", 0);
        var version = c.ReadUInt32("version");
        if (version is not (2 or 3))
            throw c.Error($"unsupported GGUF version {version} (2 and 3 are read)", 4);

        // A tensor info takes at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes,
        // a key/value at least 8 (key length) + 4 (type) + 1 byte.
        var tensorCountAt = c.Position;
        var tensorCount = c.ReadUInt64("tensor count");
        var kvCount = c.ReadCount("metadata key/value count", 13);
        if (tensorCount > (ulong)(c.Remaining / 24))
            throw c.Error($"tensor count {tensorCount} exceeds what the file can hold", tensorCountAt);

        var metadata = new GgufMetadata { SourcePath = map.Path };
        for (var i = 0; i < kvCount; i++)
        {
            var keyAt = c.Position;
            var key = c.ReadString("metadata key");
            if (key.Length == 0) throw c.Error("empty metadata key", keyAt);
            var typeAt = c.Position;
            var type = (GgufValueType)c.ReadUInt32($"type of '{key}'");
            var value = ReadValue(ref c, type, key, typeAt, depth: 0);
            if (!metadata.TryAdd(key, value, keyAt)) throw c.Error($"duplicate metadata key '{key}'", keyAt);
        }

        metadata.EndOffset = c.Position;

        var alignment = DefaultAlignment;
        if (metadata.TryGet("general.alignment", out var alignValue))
        {
            if (!alignValue.TryGetInt64(out var a) || a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw c.Error($"general.alignment {alignValue} is not a power of two", metadata.OffsetOf("general.alignment"));
            alignment = (uint)a;
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var at = c.Position;
            var name = c.ReadString("tensor name");
            if (!names.Add(name)) throw c.Error($"duplicate tensor name '{name}'", at);
            var dimsAt = c.Position;
            var nDims = c.ReadUInt32($"dimension count of '{name}'");
            if (nDims is 0 or > MaxDimensions)
                throw c.Error($"tensor '{name}' has {nDims} dimensions (1 to {MaxDimensions} allowed)", dimsAt);
            var shape = new long[nDims];
            long elements = 1;
            for (var d = 0; d < nDims; d++)
            {
                var dimAt = c.Position;
                var dim = c.ReadUInt64($"dimension {d} of '{name}'");
                if (dim == 0 || dim > long.MaxValue / 2 || (ulong)elements > (ulong)(long.MaxValue / 2) / dim)
                    throw c.Error($"tensor '{name}' dimension {d} = {dim} is invalid or overflows", dimAt);
                shape[d] = (long)dim;
                elements *= (long)dim;
            }
            var typeAt = c.Position;
            var rawType = c.ReadUInt32($"type of '{name}'");
            var type = (GgmlType)rawType;
            if (!GgmlTypeInfo.IsSupported(type))
                throw c.Error(Enum.IsDefined(type)
                    ? $"tensor '{name}' has ggml type {GgmlTypeInfo.Name(type)} ({rawType}), which orleans-infer cannot read"
                    : $"tensor '{name}' has unknown ggml type {rawType}", typeAt);
            if (shape[0] % GgmlTypeInfo.BlockSize(type) != 0)
                throw c.Error($"tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size {GgmlTypeInfo.BlockSize(type)}", dimsAt);
            var offsetAt = c.Position;
            var offset = c.ReadUInt64($"data offset of '{name}'");
            if (offset % alignment != 0)
                throw c.Error($"tensor '{name}' data offset {offset} is not aligned to {alignment}", offsetAt);
            tensors.Add(new GgufTensorInfo(name, shape, type, offset));
        }

        var dataOffset = AlignUp(c.Position, alignment);
        var dataLength = map.Length - Math.Min(dataOffset, map.Length);
        foreach (var t in tensors)
        {
            if (t.Offset > (ulong)dataLength || (ulong)t.ByteCount > (ulong)dataLength - t.Offset)
                throw c.Error($"tensor '{t.Name}' ({t.ByteCount} bytes at data offset {t.Offset}) extends past the end of the file", dataOffset + (long)Math.Min(t.Offset, (ulong)long.MaxValue / 2));
        }

        return new GgufFile(map, version, metadata, tensors, dataOffset, alignment);
    }

    private static GgufValue ReadValue(ref GgufCursor c, GgufValueType type, string key, long typeAt, int depth)
    {
        object value = type switch
        {
            GgufValueType.UInt8 => c.ReadUInt8(key),
            GgufValueType.Int8 => (sbyte)c.ReadUInt8(key),
            GgufValueType.UInt16 => c.ReadUInt16(key),
            GgufValueType.Int16 => (short)c.ReadUInt16(key),
            GgufValueType.UInt32 => c.ReadUInt32(key),
            GgufValueType.Int32 => (int)c.ReadUInt32(key),
            GgufValueType.Float32 => c.ReadFloat32(key),
            GgufValueType.Bool => ReadBool(ref c, key),
            GgufValueType.String => c.ReadString(key),
            GgufValueType.UInt64 => c.ReadUInt64(key),
            GgufValueType.Int64 => (long)c.ReadUInt64(key),
            GgufValueType.Float64 => c.ReadFloat64(key),
            GgufValueType.Array => ReadArray(ref c, key, depth),
            _ => throw c.Error($"unknown value type {(uint)type} for '{key}'", typeAt),
        };
        return new GgufValue(type, value);
    }

    private static bool ReadBool(ref GgufCursor c, string key)
    {
        var at = c.Position;
        var b = c.ReadUInt8(key);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw c.Error($"bool '{key}' has value {b}", at),
        };
    }

    private static GgufArray ReadArray(ref GgufCursor c, string key, int depth)
    {
        if (depth >= MaxArrayNesting) throw c.Error($"array '{key}' is nested deeper than {MaxArrayNesting} levels");
        var typeAt = c.Position;
        var elementType = (GgufValueType)c.ReadUInt32($"element type of '{key}'");
        var size = ElementMinBytes(elementType);
        if (size < 0) throw c.Error($"unknown array element type {(uint)elementType} for '{key}'", typeAt);
        var count = c.ReadCount($"element count of '{key}'", size);
        Array items = elementType switch
        {
            GgufValueType.UInt8 => Fill(new byte[count], ref c, static (ref GgufCursor x, string k) => x.ReadUInt8(k), key),
            GgufValueType.Int8 => Fill(new sbyte[count], ref c, static (ref GgufCursor x, string k) => (sbyte)x.ReadUInt8(k), key),
            GgufValueType.UInt16 => Fill(new ushort[count], ref c, static (ref GgufCursor x, string k) => x.ReadUInt16(k), key),
            GgufValueType.Int16 => Fill(new short[count], ref c, static (ref GgufCursor x, string k) => (short)x.ReadUInt16(k), key),
            GgufValueType.UInt32 => Fill(new uint[count], ref c, static (ref GgufCursor x, string k) => x.ReadUInt32(k), key),
            GgufValueType.Int32 => Fill(new int[count], ref c, static (ref GgufCursor x, string k) => (int)x.ReadUInt32(k), key),
            GgufValueType.Float32 => Fill(new float[count], ref c, static (ref GgufCursor x, string k) => x.ReadFloat32(k), key),
            GgufValueType.Bool => Fill(new bool[count], ref c, static (ref GgufCursor x, string k) => ReadBool(ref x, k), key),
            GgufValueType.String => Fill(new string[count], ref c, static (ref GgufCursor x, string k) => x.ReadString(k), key),
            GgufValueType.UInt64 => Fill(new ulong[count], ref c, static (ref GgufCursor x, string k) => x.ReadUInt64(k), key),
            GgufValueType.Int64 => Fill(new long[count], ref c, static (ref GgufCursor x, string k) => (long)x.ReadUInt64(k), key),
            GgufValueType.Float64 => Fill(new double[count], ref c, static (ref GgufCursor x, string k) => x.ReadFloat64(k), key),
            GgufValueType.Array => FillNested(count, ref c, key, depth),
            _ => throw c.Error($"unknown array element type {(uint)elementType} for '{key}'", typeAt),
        };
        return new GgufArray(elementType, items);
    }

    private delegate T Reader<T>(ref GgufCursor c, string key);

    private static T[] Fill<T>(T[] items, ref GgufCursor c, Reader<T> read, string key)
    {
        for (var i = 0; i < items.Length; i++) items[i] = read(ref c, key);
        return items;
    }

    private static GgufArray[] FillNested(int count, ref GgufCursor c, string key, int depth)
    {
        var items = new GgufArray[count];
        for (var i = 0; i < count; i++) items[i] = ReadArray(ref c, key, depth + 1);
        return items;
    }

    /// <summary>Smallest encoded size of one element, used to reject counts the file cannot hold; -1 if unknown.</summary>
    private static int ElementMinBytes(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => -1,
    };

    internal static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
