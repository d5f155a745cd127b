using OrleansInfer.Model.Families;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model;

/// <summary>
/// Writes Llama models as GGUF files llama.cpp loads: the llama.* and tokenizer.ggml.* metadata and the
/// tensors in llama.cpp's order and names. Rows come from a callback, so conversion and synthesis stream.
/// </summary>
public static class LlamaGguf
{
    /// <summary>Fills one f32 row of a tensor (row index, destination).</summary>
    public delegate void RowSource(long row, Span<float> destination);

    /// <summary>
    /// Writes a model; <paramref name="rows"/> gives the source of each file tensor by name (phi3's fused
    /// attn_qkv/ffn_up by their file names); <paramref name="rope"/> adds rope_freqs or LongRoPE's factor tensors.
    /// </summary>
    public static void Write(string path, LlamaConfig config, Vocabulary vocabulary, GgmlType type, string name,
        Func<string, RowSource> rows, IProgress<double>? progress = null, RopeTensors rope = RopeTensors.None)
    {
        if (!CanWrite(type)) throw new ArgumentException($"cannot write model tensors of type {GgmlTypeInfo.Name(type)}", nameof(type));
        Write(path, config, vocabulary, new TensorLayout((_, shape) => StorageType(shape, type), FileType(type)), name, rows, progress, rope);
    }

    /// <summary>
    /// Writes a model whose tensors each have their own type (<see cref="TensorLayout.TypeOf"/>, e.g. a llama.cpp
    /// quantization mix); <see cref="TensorLayout.FileType"/> becomes general.file_type.
    /// </summary>
    public static void Write(string path, LlamaConfig config, Vocabulary vocabulary, TensorLayout layout, string name,
        Func<string, RowSource> rows, IProgress<double>? progress = null, RopeTensors rope = RopeTensors.None)
    {
        var writer = new GgufWriter();
        writer.Add("general.architecture", GgufValue.Of(config.Architecture.Name()));
        writer.Add("general.name", GgufValue.Of(name));
        writer.Add("general.file_type", GgufValue.Of((uint)layout.FileType));
        if (layout.QuantizationVersion is { } version) writer.Add("general.quantization_version", GgufValue.Of(version));
        GgufConfigWriter.Add(writer, config);
        vocabulary.WriteTo(writer);

        foreach (var (tensor, shape) in LlamaTensorNames.Expected(config, rope))
        {
            var storage = layout.TypeOf(tensor, shape);
            if (!CanWrite(storage)) throw new ArgumentException($"cannot write tensor {tensor} as {GgmlTypeInfo.Name(storage)}", nameof(layout));
            var source = rows(tensor);
            var rowCount = shape.Length == 1 ? 1 : shape[1];
            writer.AddTensor(tensor, shape, storage, s => WriteRows(s, storage, (int)shape[0], rowCount, source, layout.Threads));
        }
        writer.WriteTo(path, progress);
    }

    /// <summary>
    /// Whether model matrices can be written as <paramref name="type"/>: every type <see cref="Quantize"/> encodes
    /// except Q8_K, which ggml keeps for activations (llama.cpp has no matrix kernel for Q8_K weights).
    /// </summary>
    public static bool CanWrite(GgmlType type) => Quantize.CanEncode(type) && type != GgmlType.Q8_K;

    /// <summary>
    /// The type a tensor is stored as: norms (1-D) stay f32 as in llama.cpp; a quantized type needs rows that
    /// are whole blocks, otherwise the tensor falls back to f16.
    /// </summary>
    public static GgmlType StorageType(long[] shape, GgmlType requested)
    {
        if (shape.Length == 1) return GgmlType.F32;
        return shape[0] % GgmlTypeInfo.BlockSize(requested) == 0 ? requested : GgmlType.F16;
    }

    /// <summary>Rows are produced and encoded in parallel batches, then written in order.</summary>
    private static void WriteRows(Stream stream, GgmlType type, int rowLength, long rows, RowSource source, int threads)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : -1 };
        var rowBytes = (int)GgmlTypeInfo.ByteCount(type, rowLength);
        var batchRows = (int)Math.Clamp((16L << 20) / (rowLength * sizeof(float)), 1, rows);
        var floats = new float[batchRows * rowLength];
        var bytes = new byte[batchRows * rowBytes];
        for (long r0 = 0; r0 < rows; r0 += batchRows)
        {
            var n = (int)Math.Min(batchRows, rows - r0);
            Parallel.For(0, n, parallel, i =>
            {
                var src = floats.AsSpan(i * rowLength, rowLength);
                source(r0 + i, src);
                Quantize.Row(type, src, bytes.AsSpan(i * rowBytes, rowBytes));
            });
            stream.Write(bytes, 0, n * rowBytes);
        }
    }

    /// <summary>llama.cpp's llama_ftype for a file whose matrices are <paramref name="type"/> (a uniform K type is its "_S" mix).</summary>
    private static int FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q2_K => 10,
        GgmlType.Q3_K => 11,
        GgmlType.Q4_K => 14,
        GgmlType.Q5_K => 16,
        GgmlType.Q6_K => 18,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Rewrites <paramref name="model"/> as GGUF; <paramref name="chatTemplate"/>, when given, replaces the template it carries.</summary>
    public static void Convert(ModelFile model, string outputPath, GgmlType type, IProgress<double>? progress = null, string? chatTemplate = null)
    {
        if (!CanWrite(type)) throw new ArgumentException($"cannot write model tensors of type {GgmlTypeInfo.Name(type)}", nameof(type));
        Convert(model, outputPath, new TensorLayout((_, shape) => StorageType(shape, type), FileType(type)), progress, chatTemplate);
    }

    /// <summary>Rewrites <paramref name="model"/> as GGUF with each tensor's type from <paramref name="layout"/>.</summary>
    public static void Convert(ModelFile model, string outputPath, TensorLayout layout, IProgress<double>? progress = null, string? chatTemplate = null)
    {
        var config = model.Config ?? throw new ArgumentException("the input has no weights", nameof(model));
        var weights = model.Weights!;
        var name = model.Gguf?.Metadata.GetString("general.name") ?? Path.GetFileNameWithoutExtension(model.Path);
        var vocabulary = chatTemplate is null ? model.Vocabulary : model.Vocabulary with { ChatTemplate = chatTemplate };
        var rope = (weights.RopeFrequencyFactors is null ? RopeTensors.None : RopeTensors.Frequencies)
                   | (weights.RopeFactorsLong is null ? RopeTensors.None : RopeTensors.LongShort);
        Write(outputPath, config, vocabulary, layout, name, RowsOf(config, weights), progress, rope);
    }

    /// <summary>Rows of each file tensor from bound weights; phi3's fused tensors are reassembled from their slices.</summary>
    public static Func<string, RowSource> RowsOf(LlamaConfig config, LlamaWeights weights)
    {
        var byName = weights.All().ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (weights.RopeFactorsShort is { } ropeShort) byName[ropeShort.Name] = ropeShort;
        var fused = new Dictionary<string, TensorView[]>(StringComparer.Ordinal);
        if (config.Architecture.FusesQkvAndGateUp())
        {
            for (var l = 0; l < config.BlockCount; l++)
            {
                var layer = weights.Layers[l];
                fused[LlamaTensorNames.Qkv(l)] = [layer.Wq, layer.Wk, layer.Wv];
                fused[LlamaTensorNames.GateUp(l)] = [layer.W1, layer.W3];
            }
        }
        return tensor =>
        {
            if (fused.TryGetValue(tensor, out var parts))
            {
                return (row, dst) =>
                {
                    foreach (var part in parts)
                    {
                        if (row < part.Rows)
                        {
                            part.ReadRows(row, 1, dst);
                            return;
                        }
                        row -= part.Rows;
                    }
                    throw new ArgumentOutOfRangeException(nameof(row), $"row past the end of {tensor}");
                };
            }
            var view = byName[tensor];
            return (row, dst) => view.ReadRows(row, 1, dst);
        };
    }
}

/// <summary>
/// How <see cref="LlamaGguf"/> stores each tensor: its type by name and shape (ggml order), the llama_ftype number
/// written as general.file_type, general.quantization_version (llama.cpp writes 2 for quantized files), and the
/// most threads that encode rows (0: all cores).
/// </summary>
public sealed record TensorLayout(Func<string, long[], GgmlType> TypeOf, int FileType, uint? QuantizationVersion = null, int Threads = 0);

