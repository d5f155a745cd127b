namespace OrleansInfer.Engine.Runner;

/// <summary>How a runner stores keys and values in its KV pool.</summary>
public enum KvCacheDataType
{
    /// <summary>4 bytes per value.</summary>
    F32,

    /// <summary>IEEE half, 2 bytes per value.</summary>
    F16,

    /// <summary>ggml's q8_0 (32 int8 values and one f16 scale: 34 bytes per 32 values); head dims are whole blocks.</summary>
    Q8_0,
}

/// <summary>Names and sizes of <see cref="KvCacheDataType"/>.</summary>
public static class KvCacheDataTypes
{
    /// <summary>Parses f32, f16 or q8_0 (any case).</summary>
    public static bool TryParse(string name, out KvCacheDataType type)
    {
        switch (name.ToLowerInvariant())
        {
            case "f32": type = KvCacheDataType.F32; return true;
            case "f16": type = KvCacheDataType.F16; return true;
            case "q8_0": type = KvCacheDataType.Q8_0; return true;
            default: type = default; return false;
        }
    }

    public static string Name(KvCacheDataType type) => type.ToString().ToLowerInvariant();

    /// <summary>The names <see cref="TryParse"/> accepts, for option help and errors.</summary>
    public const string Names = "f32, f16, q8_0";

    /// <summary>
    /// Throws when <paramref name="config"/>'s heads cannot be stored as <paramref name="type"/>: q8_0 quantizes each
    /// KV head's row in blocks of 32 values, so the head size must be a multiple of 32 (llama.cpp requires the same).
    /// </summary>
    public static void EnsureSupported(KvCacheDataType type, OrleansInfer.Model.LlamaConfig config)
    {
        if (type == KvCacheDataType.Q8_0 && config.HeadDim % 32 != 0)
            throw new ArgumentException($"q8_0 KV cache needs a head size that is a multiple of 32 (as llama.cpp requires); this model's head size is {config.HeadDim}: use f16 or f32");
    }

    /// <summary>Bytes of one row of <paramref name="values"/> keys or values (q8_0 needs a multiple of 32).</summary>
    public static long RowBytes(KvCacheDataType type, int values) => type switch
    {
        KvCacheDataType.F32 => 4L * values,
        KvCacheDataType.F16 => 2L * values,
        KvCacheDataType.Q8_0 => values % 32 == 0 ? values / 32 * 34L : throw new ArgumentException($"q8_0 KV needs a multiple of 32 values per row, got {values}", nameof(values)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
