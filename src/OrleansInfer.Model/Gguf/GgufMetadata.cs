using System.Diagnostics.CodeAnalysis;

namespace OrleansInfer.Model.Gguf;

/// <summary>GGUF metadata in file order, with typed accessors that report missing or mistyped keys clearly.</summary>
public sealed class GgufMetadata
{
    private readonly List<KeyValuePair<string, GgufValue>> _ordered = [];
    private readonly Dictionary<string, GgufValue> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);

    public int Count => _ordered.Count;

    public IReadOnlyList<KeyValuePair<string, GgufValue>> Entries => _ordered;

    /// <summary>The file the metadata was read from, named in errors.</summary>
    public string? SourcePath { get; internal set; }

    /// <summary>File offset just past the last metadata entry (where a missing key would have been).</summary>
    public long EndOffset { get; internal set; } = -1;

    public bool TryAdd(string key, GgufValue value, long offset = -1)
    {
        if (!_byKey.TryAdd(key, value)) return false;
        _ordered.Add(new(key, value));
        _offsets[key] = offset;
        return true;
    }

    /// <summary>File offset of the key's entry, or -1 when it was not read from a file.</summary>
    public long OffsetOf(string key) => _offsets.TryGetValue(key, out var o) ? o : -1;

    /// <summary>The error for a key a reader needs and the file lacks.</summary>
    public ModelFormatException Missing(string key) =>
        new($"required metadata key '{key}' is missing", EndOffset, SourcePath);

    public bool TryGet(string key, [NotNullWhen(true)] out GgufValue? value) => _byKey.TryGetValue(key, out value);

    public bool Contains(string key) => _byKey.ContainsKey(key);

    public string? GetString(string key) => TryGet(key, out var v) ? v.Value as string ?? throw Mistyped(key, v, "a string") : null;

    public long? GetInteger(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.TryGetInt64(out var l) ? l : throw Mistyped(key, v, "an integer");
    }

    public double? GetNumber(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.TryGetDouble(out var d) ? d : throw Mistyped(key, v, "a number");
    }

    public bool? GetBool(string key) => TryGet(key, out var v) ? v.Value as bool? ?? throw Mistyped(key, v, "a bool") : null;

    public T[]? GetArray<T>(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.Value is GgufArray { Items: T[] items } ? items : throw Mistyped(key, v, $"an array of {typeof(T).Name}");
    }

    private ModelFormatException Mistyped(string key, GgufValue v, string expected) =>
        new($"metadata key '{key}' is {v.Type}, expected {expected}", OffsetOf(key), SourcePath);
}
