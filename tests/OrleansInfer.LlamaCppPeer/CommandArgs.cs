using System.Globalization;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// A command's `--name value` options, read in order: every command here takes a flat list of them, so a
/// small reader keeps the usage errors (one line, exit 2) the same everywhere.
/// </summary>
public sealed class CommandArgs(string[] args)
{
    private int _next;

    /// <summary>The next option name, or null when all are read.</summary>
    public string? NextName() => _next < args.Length ? args[_next++] : null;

    /// <summary>The value after the option just read.</summary>
    public string Value(string name)
    {
        if (_next >= args.Length || args[_next].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"{name} needs a value");
        return args[_next++];
    }

    public int Int(string name)
    {
        var v = Value(name);
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException($"{name}: '{v}' is not an integer");
    }

    /// <summary>A range MIN:MAX (or a single N meaning N:N), as `orleans-infer bench throughput` takes it.</summary>
    public static (int Min, int Max) ParseRange(string v, string name)
    {
        var parts = v.Split(':');
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var min)
            && int.TryParse(parts[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var max)
            && min >= 1 && max >= min)
        {
            return (min, max);
        }
        throw new UsageException($"{name}: '{v}' is not a range MIN:MAX of positive integers");
    }

    /// <summary>Comma-separated token ids.</summary>
    public int[] Ints(string name)
    {
        var v = Value(name);
        var ids = new List<int>();
        foreach (var part in v.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)) throw new UsageException($"{name}: '{part}' is not an integer");
            ids.Add(id);
        }
        return [.. ids];
    }

    /// <summary>A KV cache element type name (f32, f16).</summary>
    public LLama.Native.GGMLType KvType(string name)
    {
        var v = Value(name);
        return v switch
        {
            "f32" => LLama.Native.GGMLType.GGML_TYPE_F32,
            "f16" => LLama.Native.GGMLType.GGML_TYPE_F16,
            _ => throw new UsageException($"{name}: '{v}' is not f32 or f16"),
        };
    }

    /// <summary>An existing model file.</summary>
    public static string RequireFile(string? path, string option)
    {
        if (path is null) throw new UsageException($"{option} is required");
        if (!File.Exists(path)) throw new UsageException($"{option}: file not found: {path}");
        return path;
    }
}
