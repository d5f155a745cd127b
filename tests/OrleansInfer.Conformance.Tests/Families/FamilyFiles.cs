using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests.Families;

/// <summary>
/// The tiny preset of each architecture (every feature of the family on), synthesized at f32 through the Model API
/// (<see cref="SyntheticModel.Write"/>, what <c>model synth --arch ARCH --preset NAME --type f32</c> runs) into a
/// temporary folder on first use, with its vocabulary from the shared tokenizers folder. Deleted on dispose.
/// </summary>
public sealed class FamilyFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleansinfer-families-").FullName;
    private readonly Dictionary<string, string> _paths = [];
    private readonly Lock _lock = new();

    /// <summary>Every architecture's tiny preset, and llama's linear and YaRN variants: "arch/preset".</summary>
    public static TheoryData<string> All() =>
        new("llama/tiny", "llama/tiny-linear", "llama/tiny-yarn", "qwen2/tiny", "qwen3/tiny", "phi3/tiny", "gemma2/tiny", "gemma3/tiny", "deci/tiny");

    /// <summary>The f32 file of "arch/preset", written once.</summary>
    public string PathOf(string model)
    {
        lock (_lock)
        {
            if (_paths.TryGetValue(model, out var path)) return path;
            var (archName, presetName) = (model[..model.IndexOf('/')], model[(model.IndexOf('/') + 1)..]);
            if (!ModelArchitectures.TryParse(archName, out var arch)) throw new ArgumentException($"unknown architecture {archName}", nameof(model));
            var preset = SyntheticPreset.Resolve(presetName, arch);
            var vocabulary = ModelFile.LoadVocabulary(SharedData.File("tokenizers", preset.DefaultTokenizer), vocabSize: null);
            path = Path.Combine(_folder, $"{archName}-{presetName}-f32.gguf");
            SyntheticModel.Write(preset, vocabulary, GgmlType.F32, path, seed: 1);
            _paths[model] = path;
            return path;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not fail the run.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FamilyFilesCollection : ICollectionFixture<FamilyFiles>
{
    public const string Name = "family files";
}
