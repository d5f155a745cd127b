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

    /// <summary>Writes a model; <paramref name="rows"/> gives the source of each tensor by name.</summary>
    public static void Write(string path, LlamaConfig config, Vocabulary vocabulary, GgmlType type, string name,
        Func<string, RowSource> rows, IProgress<double>? progress = null)
    {
        if (!CanWrite(type)) throw new ArgumentException($"cannot write model tensors of type {GgmlTypeInfo.Name(type)}", nameof(type));
        var writer = new GgufWriter();
        writer.Add("general.architecture", GgufValue.Of("llama"));
        writer.Add("general.name", GgufValue.Of(name));
        writer.Add("general.file_type", GgufValue.Of((uint)FileType(type)));
        writer.Add("llama.context_length", GgufValue.Of((uint)config.ContextLength));
        writer.Add("llama.embedding_length", GgufValue.Of((uint)config.EmbeddingLength));
        writer.Add("llama.block_count", GgufValue.Of((uint)config.BlockCount));
        writer.Add("llama.feed_forward_length", GgufValue.Of((uint)config.FeedForwardLength));
        writer.Add("llama.attention.head_count", GgufValue.Of((uint)config.HeadCount));
        writer.Add("llama.attention.head_count_kv", GgufValue.Of((uint)config.KvHeadCount));
        writer.Add("llama.rope.dimension_count", GgufValue.Of((uint)config.RopeDimensionCount));
        writer.Add("llama.rope.freq_base", GgufValue.Of(config.RopeBase));
        writer.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(config.RmsEpsilon));
        writer.Add("llama.vocab_size", GgufValue.Of((uint)config.VocabSize));
        vocabulary.WriteTo(writer);

        foreach (var (tensor, shape) in LlamaTensorNames.Expected(config))
        {
            var storage = StorageType(shape, type);
            var source = rows(tensor);
            var rowCount = shape.Length == 1 ? 1 : shape[1];
            writer.AddTensor(tensor, shape, storage, s => WriteRows(s, storage, (int)shape[0], rowCount, source));
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
    private static void WriteRows(Stream stream, GgmlType type, int rowLength, long rows, RowSource source)
    {
        var rowBytes = (int)GgmlTypeInfo.ByteCount(type, rowLength);
        var batchRows = (int)Math.Clamp((16L << 20) / (rowLength * sizeof(float)), 1, rows);
        var floats = new float[batchRows * rowLength];
        var bytes = new byte[batchRows * rowBytes];
        for (long r0 = 0; r0 < rows; r0 += batchRows)
        {
            var n = (int)Math.Min(batchRows, rows - r0);
            Parallel.For(0, n, i =>
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

    /// <summary>Re-encodes an opened model (GGUF or llama2.c) as GGUF with matrices of <paramref name="type"/>.</summary>
    /// <summary>Rewrites <paramref name="model"/> as GGUF; <paramref name="chatTemplate"/>, when given, replaces the template it carries.</summary>
    public static void Convert(ModelFile model, string outputPath, GgmlType type, IProgress<double>? progress = null, string? chatTemplate = null)
    {
        var config = model.Config ?? throw new ArgumentException("the input has no weights", nameof(model));
        var weights = model.Weights!;
        var byName = weights.All().ToDictionary(t => t.Name, StringComparer.Ordinal);
        var name = model.Gguf?.Metadata.GetString("general.name") ?? Path.GetFileNameWithoutExtension(model.Path);
        var vocabulary = chatTemplate is null ? model.Vocabulary : model.Vocabulary with { ChatTemplate = chatTemplate };
        Write(outputPath, config, vocabulary, type, name, tensor =>
        {
            var view = byName[tensor];
            return (row, dst) => view.ReadRows(row, 1, dst);
        }, progress);
    }
}
