namespace OrleansInfer.Model.Tensors;

/// <summary>ggml tensor element types, numbered as in ggml.h. Every number is named so errors can say what a file holds.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

/// <summary>Block layout of each supported type: elements per block and bytes per block.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Values per super-block of the K-quants (ggml's QK_K).</summary>
    public const int QK_K = 256;

    public static bool IsSupported(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0
            or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.I8 or GgmlType.I16 or GgmlType.I32
            or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        _ => false,
    };

    /// <summary>Whether the type is one of ggml's K-quants (super-blocks of 256 values).</summary>
    public static bool IsKQuant(GgmlType type) => type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K
        or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>Elements per quantization block (1 for plain types).</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => 32,
        _ when IsKQuant(type) => QK_K,
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
        GgmlType.Q2_K => 84,   // scales[16], qs[64], d, dmin
        GgmlType.Q3_K => 110,  // hmask[32], qs[64], scales[12], d
        GgmlType.Q4_K => 144,  // d, dmin, scales[12], qs[128]
        GgmlType.Q5_K => 176,  // d, dmin, scales[12], qh[32], qs[128]
        GgmlType.Q6_K => 210,  // ql[128], qh[64], scales[16], d
        GgmlType.Q8_K => 292,  // f32 d, qs[256], bsums[16]
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"unsupported ggml type {Name(type)}"),
    };

    /// <summary>Bytes of <paramref name="elements"/> values, which must be a whole number of blocks.</summary>
    public static long ByteCount(GgmlType type, long elements) => elements / BlockSize(type) * BlockBytes(type);

    /// <summary>Bits per weight of the encoding.</summary>
    public static double BitsPerWeight(GgmlType type) => 8.0 * BlockBytes(type) / BlockSize(type);

    /// <summary>Parses a type name as the CLI spells it (f32, f16, bf16, q8_0, q4_0, q4_k, ...).</summary>
    public static bool TryParse(string name, out GgmlType type)
    {
        foreach (var t in Enum.GetValues<GgmlType>())
        {
            if (!string.Equals(Name(t), name, StringComparison.OrdinalIgnoreCase)) continue;
            type = t;
            return true;
        }
        type = default;
        return false;
    }

    /// <summary>The lower-case name (q4_k, bf16, iq2_xxs); an unnamed number prints as "type N".</summary>
    public static string Name(GgmlType type) => Enum.IsDefined(type) ? type.ToString().ToLowerInvariant() : $"type {(uint)type}";
}
