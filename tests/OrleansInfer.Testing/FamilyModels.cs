using System.Collections.Concurrent;
using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Testing;

/// <summary>
/// Tiny synthetic models of every architecture (<see cref="FamilyPresets"/>: every family feature on) for backend
/// tests, written once per process into a temporary folder. With the default tok512 vocabulary (512 tokens) they are a
/// few hundred KB and run in microseconds; pass a shared vocabulary GGUF (e.g. "ggml-vocab-llama-spm.gguf") for the
/// files llama.cpp compares with on real token ids.
/// </summary>
public static class FamilyModels
{
    private static readonly string Folder = Directory.CreateTempSubdirectory("orleans-infer-family-models-").FullName;
    private static readonly ConcurrentDictionary<string, Lazy<string>> Files = new();

    /// <summary>Every (architecture, preset) pair of the tiny presets, for theories.</summary>
    public static IEnumerable<(ModelArchitecture Arch, string Preset)> Tiny =>
        FamilyPresets.All.Where(p => p.Name.StartsWith("tiny", StringComparison.Ordinal)).Select(p => (p.Architecture, p.Name));

    /// <summary>The file of <paramref name="preset"/> of <paramref name="arch"/> (written on first use).</summary>
    /// <param name="arch">The architecture.</param>
    /// <param name="preset">"tiny", or llama's "tiny-linear" / "tiny-yarn".</param>
    /// <param name="type">Matrix type (norms stay f32).</param>
    /// <param name="seed">Seed of the random weights.</param>
    /// <param name="vocabulary">A shared tokenizers/ GGUF name, or null for tok512.bin.</param>
    public static string Path(ModelArchitecture arch, string preset = "tiny", GgmlType type = GgmlType.F32, ulong seed = 1, string? vocabulary = null)
    {
        var key = $"{arch.Name()}-{preset}-{GgmlTypeInfo.Name(type)}-{seed}-{vocabulary ?? "tok512"}";
        return Files.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            var p = SyntheticPreset.Resolve(preset, arch);
            var vocab = vocabulary is null
                ? ModelFile.LoadVocabulary(SharedData.Tok512, vocabSize: null)
                : ModelFile.LoadVocabulary(SharedData.File("tokenizers", vocabulary), vocabSize: null);
            var path = System.IO.Path.Combine(Folder, k + ".gguf");
            SyntheticModel.Write(p, vocab, type, path, seed);
            return path;
        })).Value;
    }

    /// <summary>Opens the model (the caller disposes it).</summary>
    public static ModelFile Open(ModelArchitecture arch, string preset = "tiny", GgmlType type = GgmlType.F32, ulong seed = 1, string? vocabulary = null) =>
        ModelFile.Open(Path(arch, preset, type, seed, vocabulary));
}
