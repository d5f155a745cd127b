using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Quantization;

/// <summary>Writes an opened model (GGUF or llama2.c, any readable types) as a GGUF of a quantization mix.</summary>
public static class ModelQuantizer
{
    /// <summary>The GGUF quantization version of ggml's current block formats (GGML_QNT_VERSION).</summary>
    public const uint QuantizationVersion = 2;

    /// <summary>Writes <paramref name="model"/> as <paramref name="mix"/> (llama.cpp's recipe) and returns each tensor's type.</summary>
    public static IReadOnlyList<TensorChoice> Quantize(ModelFile model, string outputPath, QuantizationMix mix, int threads = 0, IProgress<double>? progress = null)
    {
        var config = model.Config ?? throw new ArgumentException("the input has no weights", nameof(model));
        var choices = QuantizationRecipe.Choose(config, mix);
        Write(model, outputPath, choices, QuantizationMixes.FileType(mix), threads, progress);
        return choices;
    }

    /// <summary>Writes <paramref name="model"/> with the given per-tensor types; <paramref name="fileType"/> becomes general.file_type.</summary>
    public static void Write(ModelFile model, string outputPath, IReadOnlyList<TensorChoice> choices, int fileType, int threads = 0, IProgress<double>? progress = null)
    {
        var types = choices.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);
        var quantized = choices.Any(c => QuantizationMixes.IsQuantized(c.Type));
        var layout = new TensorLayout((name, _) => types[name], fileType, quantized ? QuantizationVersion : null, threads);
        LlamaGguf.Convert(model, outputPath, layout, progress);
    }

    /// <summary>Bits per weight over the quantizable matrices (what llama.cpp's "bpw" counts besides norms).</summary>
    public static double BitsPerWeight(IEnumerable<TensorChoice> choices)
    {
        long bytes = 0, elements = 0;
        foreach (var c in choices.Where(c => c.Quantizable))
        {
            bytes += c.Bytes;
            elements += c.Elements;
        }
        return elements == 0 ? 0 : 8.0 * bytes / elements;
    }
}
