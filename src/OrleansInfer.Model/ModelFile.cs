using OrleansInfer.Model.Families;
using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Llama2c;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model;

public enum ModelFormat
{
    Gguf,
    Llama2c,

    /// <summary>Weights the caller holds in memory (<see cref="ModelFile.FromWeights"/>).</summary>
    Memory,
}

/// <summary>
/// A model opened from disk: configuration, weights read in place from a memory mapping, and the vocabulary.
/// GGUF files carry their vocabulary; llama2.c checkpoints take a tokenizer.bin (given, or beside the model).
/// A vocabulary-only GGUF opens with <see cref="Weights"/> null.
/// </summary>
public sealed class ModelFile : IDisposable
{
    private readonly MappedFile? _map;

    private ModelFile(string path, ModelFormat format, GgufFile? gguf, MappedFile? map, LlamaConfig? config, LlamaWeights? weights, Vocabulary vocabulary)
    {
        Path = path;
        Format = format;
        Gguf = gguf;
        _map = map;
        Config = config;
        Weights = weights;
        Vocabulary = vocabulary;
    }

    public string Path { get; }

    public ModelFormat Format { get; }

    /// <summary>The GGUF file when the model is one (metadata, tensor infos).</summary>
    public GgufFile? Gguf { get; }

    public LlamaConfig? Config { get; }

    public LlamaWeights? Weights { get; }

    public Vocabulary Vocabulary { get; }

    public bool HasWeights => Weights is not null;

    /// <summary>Opens a GGUF file or a llama2.c checkpoint (told apart by the GGUF magic).</summary>
    /// <param name="path">A .gguf file or a llama2.c .bin checkpoint.</param>
    /// <param name="tokenizerPath">A llama2.c tokenizer.bin or a GGUF whose vocabulary replaces the model's.</param>
    /// <param name="requireWeights">When false a vocabulary-only GGUF is accepted.</param>
    public static ModelFile Open(string path, string? tokenizerPath = null, bool requireWeights = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        if (tokenizerPath is not null && !File.Exists(tokenizerPath)) throw new FileNotFoundException($"tokenizer file not found: {tokenizerPath}", tokenizerPath);
        return IsGguf(path) ? OpenGguf(path, tokenizerPath, requireWeights) : OpenLlama2c(path, tokenizerPath);
    }

    /// <summary>
    /// A model over weights the caller owns (e.g. some tensors re-encoded in native buffers for an experiment, the rest
    /// viewing another open model's mapping). The caller keeps that memory alive while this model is used; disposing
    /// this model frees nothing.
    /// </summary>
    public static ModelFile FromWeights(string name, LlamaConfig config, LlamaWeights weights, Vocabulary vocabulary) =>
        new(name, ModelFormat.Memory, null, null, config, weights, vocabulary);

    public static bool IsGguf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var fs = File.OpenRead(path);
        return fs.Read(magic) == 4 && BitConverter.ToUInt32(magic) == GgufFile.Magic;
    }

    private static ModelFile OpenGguf(string path, string? tokenizerPath, bool requireWeights)
    {
        var gguf = GgufFile.Open(path);
        try
        {
            var vocabulary = tokenizerPath is null ? Vocabulary.FromGguf(gguf.Metadata) : LoadVocabulary(tokenizerPath, null);
            if (gguf.Tensors.Count == 0)
            {
                if (requireWeights) throw new ModelFormatException("the file holds a vocabulary but no tensors; this command needs model weights", gguf.DataOffset, path);
                return new ModelFile(path, ModelFormat.Gguf, gguf, null, null, null, vocabulary);
            }

            var config = ReadConfig(gguf, vocabulary.Count);
            var weights = BindWeights(gguf, config);
            if (tokenizerPath is not null && vocabulary.Count != config.VocabSize)
                throw new ModelFormatException($"tokenizer has {vocabulary.Count} tokens, the model {config.VocabSize}", -1, tokenizerPath);
            return new ModelFile(path, ModelFormat.Gguf, gguf, null, config, weights, vocabulary);
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }

    private static ModelFile OpenLlama2c(string path, string? tokenizerPath)
    {
        var map = MappedFile.Open(path);
        try
        {
            var (config, weights) = Llama2cCheckpoint.Read(map);
            tokenizerPath ??= System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "tokenizer.bin");
            if (!File.Exists(tokenizerPath))
                throw new FileNotFoundException($"a llama2.c checkpoint needs its tokenizer.bin (pass --tokenizer); not found: {tokenizerPath}", tokenizerPath);
            var vocabulary = LoadVocabulary(tokenizerPath, config.VocabSize);
            return new ModelFile(path, ModelFormat.Llama2c, null, map, config, weights, vocabulary);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Reads a vocabulary from a GGUF file or a llama2.c tokenizer.bin (<paramref name="vocabSize"/> tokens, or all when null).</summary>
    public static Vocabulary LoadVocabulary(string path, int? vocabSize)
    {
        if (!IsGguf(path)) return Vocabulary.FromLlama2cTokenizer(path, vocabSize);
        using var g = GgufFile.Open(path);
        return Vocabulary.FromGguf(g.Metadata);
    }

    /// <summary>The configuration from the file's <c>ARCH.*</c> keys (<see cref="GgufConfigReader"/>).</summary>
    public static LlamaConfig ReadConfig(GgufFile gguf, int vocabularyCount) => GgufConfigReader.Read(gguf, vocabularyCount);

    private static LlamaWeights BindWeights(GgufFile gguf, LlamaConfig config) => WeightBinder.Bind(gguf, config);

    public void Dispose()
    {
        Gguf?.Dispose();
        _map?.Dispose();
    }
}
