using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Synthesis;

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
        var config = preset.ConfigFor(vocabulary);
        var vocab = FitVocabulary(vocabulary, config.VocabSize, preset.PaddingTokens);
        var std = preset.StandardDeviation ?? standardDeviation;
        var tensorIndex = 0;
        var tensors = LlamaTensorNames.Expected(config, preset.RopeTensors).ToList();
        var indices = tensors.ToDictionary(t => t.Name, _ => tensorIndex++);
        LlamaGguf.Write(path, config, vocab, type, $"synthetic-{preset.Name}", name =>
        {
            var stream = (ulong)indices[name];
            if (preset.RopeValues(config, name) is { } values) return (_, dst) => values.CopyTo(dst);
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                if (!preset.RandomNorms) return static (_, dst) => dst.Fill(1f);
                // Around 1 but not 1, so a backend that skips or misplaces a norm gives other numbers.
                return (row, dst) =>
                {
                    FillNormal(dst, seed, stream, (ulong)row, NormStandardDeviation);
                    foreach (ref var x in dst) x += 1f;
                };
            }
            if (name.EndsWith(".bias", StringComparison.Ordinal)) return (row, dst) => FillNormal(dst, seed, stream, (ulong)row, BiasStandardDeviation);
            return (row, dst) => FillNormal(dst, seed, stream, (ulong)row, std);
        }, progress, preset.RopeTensors);
    }

    /// <summary>Spread of the random norm weights around 1 (<see cref="SyntheticPreset.RandomNorms"/>).</summary>
    public const float NormStandardDeviation = 0.2f;

    /// <summary>Spread of the random biases (qwen2).</summary>
    public const float BiasStandardDeviation = 0.1f;

    /// <summary>
    /// The vocabulary sized to the model: a larger model vocabulary (llama3-8b's 128256) is padded with control tokens
    /// after the real ones, <paramref name="padding"/> first (e.g. Phi-3's special tokens), then reserved ones; a
    /// smaller one is an error.
    /// </summary>
    public static Vocabulary FitVocabulary(Vocabulary v, int size, IReadOnlyList<string>? padding = null)
    {
        if (v.Count == size) return v;
        if (v.Count > size) throw new ArgumentException($"the tokenizer has {v.Count} tokens, more than the model's {size}");
        var pad = size - v.Count;
        var named = padding ?? [];
        return v with
        {
            Tokens = [.. v.Tokens, .. Enumerable.Range(0, pad).Select(i => i < named.Count ? named[i] : $"<|reserved_{i}|>")],
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
