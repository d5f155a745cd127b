using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu.Kernels.Quantized;

/// <summary>
/// A weight matrix as the kernels read it: <see cref="Rows"/> rows of <see cref="Columns"/> values in their file
/// encoding (ggml blocks for quantized types), row r starting at <c>Data + r * RowBytes</c>, usually inside the
/// memory-mapped file.
/// </summary>
internal readonly unsafe struct WeightMatrix(GgmlType type, byte* data, int rows, int columns, long rowBytes)
{
    public GgmlType Type { get; } = type;

    public byte* Data { get; } = data;

    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    public long RowBytes { get; } = rowBytes;

    public byte* Row(long r) => Data + r * RowBytes;

    /// <summary>The view's bytes in place.</summary>
    public static WeightMatrix InPlace(TensorView view) =>
        new(view.Type, view.Data, checked((int)view.Rows), checked((int)view.Columns), view.RowBytes);

    /// <summary>An f32 matrix at <paramref name="data"/> (a buffer of dequantized weights).</summary>
    public static WeightMatrix F32(float* data, int rows, int columns) =>
        new(GgmlType.F32, (byte*)data, rows, columns, (long)columns * sizeof(float));

    /// <summary>Types the matrix product computes on directly; any other type is dequantized to f32 at load.</summary>
    public static bool HasNativeKernel(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>The activation encoding a product with this type reads.</summary>
    public static ActivationFormat ActivationFormatOf(GgmlType type) => type switch
    {
        GgmlType.Q8_0 or GgmlType.Q4_0 => ActivationFormat.Q8,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => ActivationFormat.Q8K,
        _ => ActivationFormat.F32,
    };
}

/// <summary>How the input rows of a matrix product are handed to a kernel.</summary>
internal enum ActivationFormat
{
    /// <summary>The f32 rows as they are (F32, F16, BF16 weights widen to f32 in registers).</summary>
    F32,

    /// <summary><see cref="Q8Activations"/>: blocks of 32 int8 with an f32 scale (Q8_0 and Q4_0 weights).</summary>
    Q8,

    /// <summary><see cref="Q8KActivations"/>: llama.cpp's block_q8_K (K-quant weights).</summary>
    Q8K,
}
