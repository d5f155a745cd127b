using System.Runtime.InteropServices;
using LLama.Native;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// llama.cpp's own row dequantizers (`dequantize_row_*`, `ggml_fp16_to_fp32_row`, `ggml_bf16_to_fp32_row`) from
/// the libggml-base.so LLamaSharp loaded: the reference our <see cref="Dequantize"/> must equal bit for bit.
/// Each takes (block pointer, float* destination, element count).
/// </summary>
public static unsafe class GgmlNative
{
    private static readonly Lazy<nint> Library = new(Load);

    /// <summary>The native function name of a type's row dequantizer, or null for F32 (stored as is).</summary>
    public static string? FunctionName(GgmlType type) => type switch
    {
        GgmlType.F32 => null,
        GgmlType.F16 => "ggml_fp16_to_fp32_row",
        GgmlType.BF16 => "ggml_bf16_to_fp32_row",
        GgmlType.Q4_0 => "dequantize_row_q4_0",
        GgmlType.Q4_1 => "dequantize_row_q4_1",
        GgmlType.Q5_0 => "dequantize_row_q5_0",
        GgmlType.Q5_1 => "dequantize_row_q5_1",
        GgmlType.Q8_0 => "dequantize_row_q8_0",
        GgmlType.Q2_K => "dequantize_row_q2_K",
        GgmlType.Q3_K => "dequantize_row_q3_K",
        GgmlType.Q4_K => "dequantize_row_q4_K",
        GgmlType.Q5_K => "dequantize_row_q5_K",
        GgmlType.Q6_K => "dequantize_row_q6_K",
        GgmlType.Q8_K => "dequantize_row_q8_K",
        _ => throw new ArgumentException($"no llama.cpp dequantizer named for {type}", nameof(type)),
    };

    /// <summary>llama.cpp's f32 values of one row of <paramref name="count"/> elements stored as <paramref name="type"/>.</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> row, Span<float> destination, int count)
    {
        if (destination.Length < count) throw new ArgumentException("destination too small", nameof(destination));
        if (row.Length < GgmlTypeInfo.ByteCount(type, count)) throw new ArgumentException("row too short", nameof(row));
        fixed (byte* src = row)
        fixed (float* dst = destination)
        {
            if (FunctionName(type) is not { } name)
            {
                new ReadOnlySpan<float>(src, count).CopyTo(destination);
                return;
            }
            var function = (delegate* unmanaged<byte*, float*, long, void>)NativeLibrary.GetExport(Library.Value, name);
            function(src, dst, count);
        }
    }

    /// <summary>The libggml-base.so already mapped into this process by LLamaSharp (which picks the CPU's best build).</summary>
    private static nint Load()
    {
        NativeApi.llama_empty_call();
        // A mapping line ends with the file's path, the only field that starts with '/'.
        var path = File.ReadLines("/proc/self/maps")
            .Where(l => l.Contains('/', StringComparison.Ordinal))
            .Select(l => l[l.IndexOf('/', StringComparison.Ordinal)..])
            .FirstOrDefault(p => Path.GetFileName(p) == "libggml-base.so") ?? throw new InvalidOperationException("LLamaSharp loaded no libggml-base.so (expected beside libllama.so)");
        return NativeLibrary.Load(path);
    }
}
