using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// GGUF files quantized by llama.cpp's own quantizer (llama_model_quantize, 1 thread) in a temporary folder:
/// the synthetic tiny256 shape (f32, written in process), whose rows are whole 256-wide super-blocks so the
/// K-quant mixes come out as real K-quants, and the real stories260K weights, whose 64- and 172-wide rows make
/// llama.cpp fall back to q5_0/q5_1/q8_0/f16. Keys are "tiny256-Q4_K_M" etc.
/// </summary>
public sealed class LlamaCppQuantizedFixture : IDisposable
{
    public const string Tiny256 = "tiny256";
    public const string Stories260K = "stories260K";

    /// <summary>What each quantization request gives, tensor types as llama.cpp chooses them (its recipes and fallbacks).</summary>
    public static readonly IReadOnlyDictionary<string, GgmlType[]> ExpectedTypes = new Dictionary<string, GgmlType[]>
    {
        // Q4_K_M/Q5_K_M keep output.weight and some layers' attn_v and ffn_down at Q6_K.
        [$"{Tiny256}-Q4_K_M"] = [GgmlType.F32, GgmlType.Q4_K, GgmlType.Q6_K],
        [$"{Tiny256}-Q5_K_M"] = [GgmlType.F32, GgmlType.Q5_K, GgmlType.Q6_K],
        [$"{Tiny256}-Q6_K"] = [GgmlType.F32, GgmlType.Q6_K],
        [$"{Tiny256}-Q8_0"] = [GgmlType.F32, GgmlType.Q8_0],
        // The legacy types put output.weight at Q6_K.
        [$"{Tiny256}-Q4_0"] = [GgmlType.F32, GgmlType.Q4_0, GgmlType.Q6_K],
        [$"{Tiny256}-F16"] = [GgmlType.F32, GgmlType.F16],
        // Rows of 64 are not whole super-blocks: q5_0/q5_1/q8_0 instead; ffn_down's rows of 172 are not whole
        // 32-blocks either: f16. (llama.cpp refuses Q8_0 and Q4_0 for this model: it has no fallback for them.)
        [$"{Stories260K}-Q4_K_M"] = [GgmlType.F32, GgmlType.F16, GgmlType.Q5_0, GgmlType.Q8_0],
        [$"{Stories260K}-Q5_K_M"] = [GgmlType.F32, GgmlType.F16, GgmlType.Q5_1, GgmlType.Q8_0],
        [$"{Stories260K}-Q6_K"] = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0],
    };

    public LlamaCppQuantizedFixture()
    {
        Folder = Directory.CreateTempSubdirectory("orleansinfer-llamacpp-quantized-").FullName;
        try
        {
            Sources[Tiny256] = Path.Combine(Folder, "tiny256-f32.gguf");
            var preset = SyntheticPreset.Find(Tiny256)!;
            var vocabulary = Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, preset.Config.VocabSize);
            // The benchmark's weight scale (`model synth`): quantization moves llama.cpp's own logits well past the
            // 0.999 bound (Q4_K_M vs f32: cosine ~0.97), so a kernel error of weight size shows; larger scales make
            // this random model chaotic, where rounding activations differently alone moves logits past the bound.
            SyntheticModel.Write(preset, vocabulary, GgmlType.F32, Sources[Tiny256], seed: 1);
            Sources[Stories260K] = SharedData.Stories260KGguf;
            foreach (var key in ExpectedTypes.Keys)
            {
                var (model, type) = Split(key);
                Paths[key] = Path.Combine(Folder, $"{key}.gguf");
                Quantizer.Quantize(Sources[model], Paths[key], Quantizer.TryParse(type)!.Value, threads: 1);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static TheoryData<string> Files() => new(ExpectedTypes.Keys);

    public string Folder { get; }

    /// <summary>The unquantized file each model was quantized from.</summary>
    public Dictionary<string, string> Sources { get; } = [];

    public Dictionary<string, string> Paths { get; } = [];

    /// <summary>("tiny256", "Q4_K_M") from "tiny256-Q4_K_M".</summary>
    public static (string Model, string Type) Split(string key)
    {
        var dash = key.IndexOf('-', StringComparison.Ordinal);
        return (key[..dash], key[(dash + 1)..]);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not fail the run.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class LlamaCppQuantizedCollection : ICollectionFixture<LlamaCppQuantizedFixture>
{
    public const string Name = "tiny256 and stories260K quantized by llama.cpp";
}
