using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Quantization;

/// <summary>The file types `model quantize --type` writes, named and numbered as llama.cpp's llama_ftype.</summary>
public enum QuantizationMix
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 7,
    Q4_K_M = 15,
    Q5_K_M = 17,
    Q6_K = 18,
    BF16 = 32,
}

/// <summary>Names, default tensor types and llama_ftype numbers of the <see cref="QuantizationMix"/> values.</summary>
public static class QuantizationMixes
{
    /// <summary>The mixes `model quantize` accepts, in the order help text lists them.</summary>
    public static IReadOnlyList<QuantizationMix> Quantizable { get; } =
        [QuantizationMix.F16, QuantizationMix.BF16, QuantizationMix.Q8_0, QuantizationMix.Q4_0, QuantizationMix.Q4_K_M, QuantizationMix.Q5_K_M, QuantizationMix.Q6_K];

    /// <summary>The lower-case name as llama-quantize spells it (q4_k_m, f16, ...).</summary>
    public static string Name(QuantizationMix mix) => mix.ToString().ToLowerInvariant();

    public static bool TryParse(string name, out QuantizationMix mix)
    {
        foreach (var m in Enum.GetValues<QuantizationMix>())
        {
            if (!string.Equals(Name(m), name, StringComparison.OrdinalIgnoreCase)) continue;
            mix = m;
            return true;
        }
        mix = default;
        return false;
    }

    /// <summary>llama.cpp's llama_ftype number, written as general.file_type.</summary>
    public static int FileType(QuantizationMix mix) => (int)mix;

    /// <summary>The type most matrices get (llama_ftype_get_default_type).</summary>
    public static GgmlType DefaultType(QuantizationMix mix) => mix switch
    {
        QuantizationMix.F32 => GgmlType.F32,
        QuantizationMix.F16 => GgmlType.F16,
        QuantizationMix.BF16 => GgmlType.BF16,
        QuantizationMix.Q8_0 => GgmlType.Q8_0,
        QuantizationMix.Q4_0 => GgmlType.Q4_0,
        QuantizationMix.Q4_K_M => GgmlType.Q4_K,
        QuantizationMix.Q5_K_M => GgmlType.Q5_K,
        QuantizationMix.Q6_K => GgmlType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(mix), mix, null),
    };

    /// <summary>Whether the type is block-quantized (ggml_is_quantized): plain f32/f16/bf16 are not.</summary>
    public static bool IsQuantized(GgmlType type) => type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64 or GgmlType.F64);
}
