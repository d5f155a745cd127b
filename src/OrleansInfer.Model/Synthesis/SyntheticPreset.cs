using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Synthesis;

/// <summary>
/// A named model shape for synthetic models and the vocabulary file it takes its tokens from. The llama presets of
/// <see cref="All"/> are the historical benchmark shapes; <see cref="FamilyPresets"/> adds a <c>tiny</c> preset per
/// architecture (every feature of the family on, for conformance tests) and real shapes of each family.
/// </summary>
public sealed record SyntheticPreset(string Name, LlamaConfig Config, string DefaultTokenizer)
{
    /// <summary>The llama presets usable without naming an architecture (as before families existed).</summary>
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

    /// <summary>Standard deviation of the random matrices (null: the writer's default, 0.02).</summary>
    public float? StandardDeviation { get; init; }

    /// <summary>Norm weights drawn around 1 instead of all 1, so norms are exercised (tiny presets).</summary>
    public bool RandomNorms { get; init; }

    /// <summary>The model's vocabulary is the vocabulary file's, whatever its size (tiny presets; Config.VocabSize is ignored).</summary>
    public bool VocabularySized { get; init; }

    /// <summary>Llama 3 frequency factors written as rope_freqs.weight.</summary>
    public Llama3RopeFactors? Llama3Rope { get; init; }

    /// <summary>
    /// Names of the first control tokens that pad a smaller vocabulary to the model's (the rest are reserved tokens).
    /// llama.cpp looks some up by name for some model names (a "phi3" general.name needs &lt;|endoftext|&gt;).
    /// </summary>
    public IReadOnlyList<string>? PaddingTokens { get; init; }

    /// <summary>Phi-3 LongRoPE factors written as rope_factors_long/short.weight (the config says LongRope).</summary>
    public bool LongRopeFactors { get; init; }

    public RopeTensors RopeTensors =>
        (Llama3Rope is null ? RopeTensors.None : RopeTensors.Frequencies) | (LongRopeFactors ? RopeTensors.LongShort : RopeTensors.None);

    public ModelArchitecture Architecture => Config.Architecture;

    /// <summary>The llama preset named so (case-insensitive), as before architectures existed.</summary>
    public static SyntheticPreset? Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every preset of an architecture (llama: the historical ones too).</summary>
    public static IEnumerable<SyntheticPreset> For(ModelArchitecture arch) =>
        (arch == ModelArchitecture.Llama ? All : []).Concat(FamilyPresets.All.Where(p => p.Architecture == arch));

    /// <summary>
    /// The preset <paramref name="name"/> of <paramref name="arch"/>; without an architecture, a name only one
    /// architecture has (the llama presets first). Throws ArgumentException naming the known presets.
    /// </summary>
    public static SyntheticPreset Resolve(string name, ModelArchitecture? arch)
    {
        bool Named(SyntheticPreset p) => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase);
        if (arch is { } a)
        {
            return For(a).FirstOrDefault(Named)
                ?? throw new ArgumentException($"unknown preset '{name}' for {a.Name()} (known: {string.Join(", ", For(a).Select(p => p.Name))})");
        }
        if (Find(name) is { } legacy) return legacy;
        var matches = FamilyPresets.All.Where(Named).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ArgumentException($"unknown preset '{name}' (known: {string.Join(", ", All.Concat(FamilyPresets.All).Select(p => p.Name).Distinct())})"),
            _ => throw new ArgumentException($"preset '{name}' exists for {string.Join(", ", matches.Select(p => p.Architecture.Name()))}: pass --arch"),
        };
    }

    /// <summary>The config written with <paramref name="vocabulary"/> (its size, for vocabulary-sized presets).</summary>
    public LlamaConfig ConfigFor(Vocabulary vocabulary) =>
        VocabularySized ? Config with { VocabSize = vocabulary.Count } : Config;

    /// <summary>The values of a RoPE factor tensor this preset writes, or null when <paramref name="tensor"/> is not one.</summary>
    public float[]? RopeValues(LlamaConfig config, string tensor)
    {
        var pairs = config.RopeDimensionCount / 2;
        if (tensor == LlamaTensorNames.RopeFrequencies && Llama3Rope is { } l3) return l3.Factors(config.RopeBase, config.RopeDimensionCount);
        // Short factors near 1, long ones growing to 16 with the pair index: both shapes LongRoPE checkpoints have.
        if (tensor == LlamaTensorNames.RopeFactorsShort) return Enumerable.Range(0, pairs).Select(i => 1f + 0.5f * i / pairs).ToArray();
        if (tensor == LlamaTensorNames.RopeFactorsLong) return Enumerable.Range(0, pairs).Select(i => 1f + 15f * i * i / (float)(pairs * pairs)).ToArray();
        return null;
    }

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
/// Llama 3.1's frequency factors (HF's rope_type "llama3"; convert_hf_to_gguf writes them as rope_freqs): 1 for
/// wavelengths under original/high, <see cref="Factor"/> above original/low, a smooth blend between.
/// </summary>
public sealed record Llama3RopeFactors(float Factor, float LowFrequencyFactor, float HighFrequencyFactor, int OriginalContextLength)
{
    public float[] Factors(float ropeBase, int dims)
    {
        var lowWavelength = OriginalContextLength / LowFrequencyFactor;
        var highWavelength = OriginalContextLength / HighFrequencyFactor;
        var result = new float[dims / 2];
        for (var i = 0; i < result.Length; i++)
        {
            var freq = 1.0 / Math.Pow(ropeBase, 2.0 * i / dims);
            var wavelength = 2 * Math.PI / freq;
            if (wavelength < highWavelength) result[i] = 1f;
            else if (wavelength > lowWavelength) result[i] = Factor;
            else
            {
                var smooth = (OriginalContextLength / wavelength - LowFrequencyFactor) / (HighFrequencyFactor - LowFrequencyFactor);
                result[i] = (float)(1 / ((1 - smooth) / Factor + smooth));
            }
        }
        return result;
    }
}
