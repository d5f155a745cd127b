namespace OrleansInfer.Model.Tensors;

/// <summary>ggml tensor element types, numbered as in ggml.h (only the ones this project can read are named).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    BF16 = 30,
}

/// <summary>Block layout of each supported type: elements per block and bytes per block.</summary>
public static class GgmlTypeInfo
{
    public static bool IsSupported(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0
            or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 => true,
        _ => false,
    };

    /// <summary>Elements per quantization block (1 for plain types).</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => 32,
        _ => 1,
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.I32 => 4,
        GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => 2,
        GgmlType.I8 => 1,
        GgmlType.Q4_0 => 18,
        GgmlType.Q4_1 => 20,
        GgmlType.Q5_0 => 22,
        GgmlType.Q5_1 => 24,
        GgmlType.Q8_0 => 34,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported ggml type"),
    };

    /// <summary>Bytes of <paramref name="elements"/> values, which must be a whole number of blocks.</summary>
    public static long ByteCount(GgmlType type, long elements) => elements / BlockSize(type) * BlockBytes(type);

    /// <summary>Parses the names the CLI accepts (f32, f16, bf16, q8_0, q4_0).</summary>
    public static bool TryParse(string name, out GgmlType type)
    {
        switch (name.ToLowerInvariant())
        {
            case "f32": type = GgmlType.F32; return true;
            case "f16": type = GgmlType.F16; return true;
            case "bf16": type = GgmlType.BF16; return true;
            case "q8_0": type = GgmlType.Q8_0; return true;
            case "q4_0": type = GgmlType.Q4_0; return true;
            default: type = default; return false;
        }
    }

    public static string Name(GgmlType type) => type.ToString().ToLowerInvariant();
}
