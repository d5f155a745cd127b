using System.Runtime.InteropServices;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Tensors;

/// <summary>
/// llama.cpp's ggml-base (from the LLamaSharp.Backend.Cpu package, copied next to the test assembly) as the
/// reference for dequantization and the reference quantizers. Missing library: a clear failure, never a skip.
/// </summary>
internal static unsafe class GgmlNative
{
    private const string RelativeFolder = "runtimes/linux-x64/native";

    private static readonly Lazy<nint> Library = new(Load);

    /// <summary>The path the library was loaded from.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>ggml's dequantize_row_&lt;type&gt;(const block*, float*, int64_t k).</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var fn = (delegate* unmanaged<byte*, float*, long, void>)Export($"dequantize_row_{Suffix(type)}");
        fixed (byte* s = source)
        fixed (float* d = destination)
        {
            fn(s, d, destination.Length);
        }
    }

    /// <summary>ggml's quantize_row_&lt;type&gt;_ref(const float*, block*, int64_t k).</summary>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Export($"quantize_row_{Suffix(type)}_ref");
        fixed (float* s = source)
        fixed (byte* d = destination)
        {
            fn(s, d, source.Length);
        }
    }

    /// <summary>ggml spells the K-quants with a capital K (q4_K) and the rest in lower case.</summary>
    private static string Suffix(GgmlType type)
    {
        var name = GgmlTypeInfo.Name(type);
        return GgmlTypeInfo.IsKQuant(type) ? name[..^1] + "K" : name;
    }

    private static nint Export(string name) =>
        NativeLibrary.TryGetExport(Library.Value, name, out var address)
            ? address
            : throw new InvalidOperationException($"{LoadedFrom} does not export {name}");

    private static nint Load()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, RelativeFolder);
        var candidates = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "libggml-base.so", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray()
            : [];
        if (candidates.Length == 0)
        {
            throw new InvalidOperationException(
                $"libggml-base.so not found under {folder}: the LLamaSharp.Backend.Cpu package's linux-x64 library is the reference for these tests (restore the test project)");
        }
        LoadedFrom = candidates[0];
        return NativeLibrary.Load(LoadedFrom);
    }
}
