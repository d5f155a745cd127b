using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Synthesis;

/// <summary>A named model shape for synthetic benchmark models, and the tokenizer file it takes its vocabulary from.</summary>
public sealed record SyntheticPreset(string Name, LlamaConfig Config, string DefaultTokenizer)
{
    public static IReadOnlyList<SyntheticPreset> All { get; } =
    [
        new("stories260k", Shape(64, 5, 8, 4, 172, 512, 512), "tok512.bin"),
        // The smallest shape whose rows are whole K-quant super-blocks (256), with GQA and 64-wide heads: quantization tests.
        new("tiny256", Shape(256, 2, 4, 2, 768, 512, 256), "tok512.bin"),
        new("stories15m", Shape(288, 6, 6, 6, 768, 32000, 256), "llama2-tokenizer.bin"),
        new("stories110m", Shape(768, 12, 12, 12, 2048, 32000, 1024), "llama2-tokenizer.bin"),
        new("tinyllama-1.1b", Shape(2048, 22, 32, 4, 5632, 32000, 2048), "llama2-tokenizer.bin"),
        new("llama2-7b", Shape(4096, 32, 32, 32, 11008, 32000, 4096), "llama2-tokenizer.bin"),
        new("llama3-8b", Shape(4096, 32, 32, 8, 14336, 128256, 8192, ropeBase: 500000f), "llama2-tokenizer.bin"),
    ];

    public static SyntheticPreset? Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private static LlamaConfig Shape(int dim, int layers, int heads, int kvHeads, int hidden, int vocab, int context, float ropeBase = 10000f) => new()
    {
        EmbeddingLength = dim,
        BlockCount = layers,
        HeadCount = heads,
        KvHeadCount = kvHeads,
        FeedForwardLength = hidden,
        VocabSize = vocab,
        ContextLength = context,
        RopeBase = ropeBase,
        RopeDimensionCount = dim / heads,
        TiedOutput = false,
    };
}

/// <summary>
/// Writes random-weight models at real shapes: matrices drawn from N(0, 0.02^2), norms set to 1, deterministic
/// for a seed (each row has its own generator, so the result does not depend on thread count).
/// </summary>
public static class SyntheticModel
{
    public const float StandardDeviation = 0.02f;

    public static void Write(SyntheticPreset preset, Vocabulary vocabulary, GgmlType type, string path, ulong seed,
        IProgress<double>? progress = null, float standardDeviation = StandardDeviation)
    {
        var vocab = FitVocabulary(vocabulary, preset.Config.VocabSize);
        var tensorIndex = 0;
        var indices = LlamaTensorNames.Expected(preset.Config).ToDictionary(t => t.Name, _ => tensorIndex++);
        LlamaGguf.Write(path, preset.Config, vocab, type, $"synthetic-{preset.Name}", name =>
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) return static (_, dst) => dst.Fill(1f);
            var stream = (ulong)indices[name];
            return (row, dst) => FillNormal(dst, seed, stream, (ulong)row, standardDeviation);
        }, progress);
    }

    /// <summary>
    /// The vocabulary sized to the model: a larger model vocabulary (llama3-8b's 128256) is padded with
    /// reserved control tokens after the real ones; a smaller one is an error.
    /// </summary>
    public static Vocabulary FitVocabulary(Vocabulary v, int size)
    {
        if (v.Count == size) return v;
        if (v.Count > size) throw new ArgumentException($"the tokenizer has {v.Count} tokens, more than the model's {size}");
        var pad = size - v.Count;
        return v with
        {
            Tokens = [.. v.Tokens, .. Enumerable.Range(0, pad).Select(i => $"<|reserved_{i}|>")],
            Scores = [.. v.Scores, .. new float[pad]],
            Types = [.. v.Types, .. Enumerable.Repeat(TokenType.Control, pad)],
        };
    }

    /// <summary>Normal samples with the given standard deviation, from a SplitMix64 stream keyed by (seed, tensor, row).</summary>
    public static void FillNormal(Span<float> destination, ulong seed, ulong tensor, ulong row, float standardDeviation = StandardDeviation)
    {
        var state = seed ^ (tensor * 0x9E3779B97F4A7C15UL) ^ (row * 0xD1B54A32D192ED03UL) ^ 0x5851F42D4C957F2DUL;
        for (var i = 0; i < destination.Length; i += 2)
        {
            // Box-Muller: two uniforms in (0, 1] give two independent normals.
            var u1 = (SplitMix(ref state) >> 11) * (1.0 / (1UL << 53));
            var u2 = (SplitMix(ref state) >> 11) * (1.0 / (1UL << 53));
            var r = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
            var (s, c) = Math.SinCos(2 * Math.PI * u2);
            destination[i] = (float)(r * c) * standardDeviation;
            if (i + 1 < destination.Length) destination[i + 1] = (float)(r * s) * standardDeviation;
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
