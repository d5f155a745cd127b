using OrleansInfer.Model;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Testing;

/// <summary>
/// The synthetic <c>tiny256</c> model (64-wide heads, GQA 2) written once per test class into a temporary folder,
/// with weights of standard deviation 0.1: large enough that attention is far from uniform (scores of a few units)
/// and quantization errors show in the logits, small enough that no softmax saturates.
/// </summary>
public class TinyModelFixture : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-synthetic-").FullName;

    public TinyModelFixture() : this(SyntheticPreset.Find("tiny256")!)
    {
    }

    protected TinyModelFixture(SyntheticPreset preset)
    {
        Path = System.IO.Path.Combine(_folder, preset.Name + ".gguf");
        var vocab = Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, preset.Config.VocabSize);
        SyntheticModel.Write(preset, vocab, GgmlType.F32, Path, seed: 7, standardDeviation: 0.1f);
    }

    public string Path { get; }

    /// <summary>
    /// <paramref name="count"/> tokens of story text in the tok512 vocabulary: the greedy reference's prompts and
    /// continuations, one after another.
    /// </summary>
    public static int[] Text(int count)
    {
        var tokens = SharedData.Reference.Cases.SelectMany(c => c.PromptTokenIds.Concat(c.GeneratedTokenIds)).ToArray();
        while (tokens.Length < count) tokens = [.. tokens, .. tokens];
        return tokens[..count];
    }

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The smallest shape with q8_0-capable heads: dim 64, two 32-wide query heads sharing one KV head, 2 layers,
/// vocabulary 512 (tok512). For ILGPU's slow CPU emulator, where tiny256 steps take seconds.
/// </summary>
public sealed class Heads32ModelFixture() : TinyModelFixture(new SyntheticPreset("heads32", new LlamaConfig
{
    EmbeddingLength = 64, BlockCount = 2, HeadCount = 2, KvHeadCount = 1, FeedForwardLength = 96, VocabSize = 512,
    ContextLength = 128, RopeDimensionCount = 32, TiedOutput = false,
}, "tok512.bin"));
