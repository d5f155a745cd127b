using OrleansInfer.Model.Tensors;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// The GGUF our writer makes from stories260K.bin + tok512.bin (f32) is read by llama.cpp as the same model:
/// llama.cpp tokenizes the reference prompts to the reference ids, its logits at the last prompt position match
/// the llama2.c reference, and its greedy continuations are the reference tokens.
/// </summary>
[Collection(F32ModelCollection.Name)]
public sealed class LlamaCppReadsOurGgufTests(F32ModelFixture fixture, ITestOutputHelper output)
{
    private const float LogitTolerance = 1e-3f;

    [Fact]
    public void LlamaCppSeesTheModelsShape()
    {
        var config = fixture.Ours.Model.Config!;
        var weights = fixture.LlamaCpp.Weights.NativeHandle;
        Assert.True(config.VocabSize == fixture.LlamaCpp.VocabSize, $"llama.cpp vocabulary: expected {config.VocabSize} tokens, got {fixture.LlamaCpp.VocabSize}");
        Assert.True(config.EmbeddingLength == weights.EmbeddingSize, $"llama.cpp n_embd: expected {config.EmbeddingLength}, got {weights.EmbeddingSize}");
        Assert.True(config.BlockCount == weights.LayerCount, $"llama.cpp n_layer: expected {config.BlockCount}, got {weights.LayerCount}");
        Assert.True(config.HeadCount == weights.HeadCount, $"llama.cpp n_head: expected {config.HeadCount}, got {weights.HeadCount}");
        Assert.True(config.KvHeadCount == weights.KVHeadCount, $"llama.cpp n_head_kv: expected {config.KvHeadCount}, got {weights.KVHeadCount}");
        Assert.True(config.ContextLength == fixture.LlamaCpp.TrainContextSize, $"llama.cpp n_ctx_train: expected {config.ContextLength}, got {fixture.LlamaCpp.TrainContextSize}");
        Assert.True(fixture.Ours.Model.Vocabulary.BosId == fixture.LlamaCpp.BosId, $"llama.cpp BOS: expected {fixture.Ours.Model.Vocabulary.BosId}, got {fixture.LlamaCpp.BosId}");
        Assert.True(fixture.Ours.Model.Vocabulary.EosId == fixture.LlamaCpp.EosId, $"llama.cpp EOS: expected {fixture.Ours.Model.Vocabulary.EosId}, got {fixture.LlamaCpp.EosId}");
        var parameters = fixture.Ours.Model.Gguf!.Tensors.Sum(t => t.ElementCount);
        Assert.True((ulong)parameters == weights.ParameterCount, $"llama.cpp parameter count: expected {parameters}, got {weights.ParameterCount}");
        Assert.All(fixture.Ours.Model.Gguf!.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
    }

    [Theory]
    [MemberData(nameof(Prompts.ReferenceIndices), MemberType = typeof(Prompts))]
    public void LlamaCppTokenizesLikeTheReference(int index)
    {
        var c = Prompts.ReferenceCases[index];
        var ids = fixture.LlamaCpp.Tokenize(c.Prompt, addBos: true);
        Assert.True(c.PromptTokenIds.SequenceEqual(ids),
            $"llama.cpp tokenization of {Prompts.Show(c.Prompt)} with BOS: expected {Prompts.Ids(c.PromptTokenIds)}, got {Prompts.Ids(ids)}");
    }

    [Theory]
    [MemberData(nameof(Prompts.ReferenceIndices), MemberType = typeof(Prompts))]
    public void LlamaCppGreedyTokensAreTheReference(int index)
    {
        var c = Prompts.ReferenceCases[index];
        var tokens = fixture.LlamaCpp.GenerateGreedy(c.PromptTokenIds, Prompts.GeneratedTokens, stopAtEos: false);
        var at = Prompts.FirstDifference(c.GeneratedTokenIds, tokens);
        Assert.True(at < 0,
            $"llama.cpp greedy tokens after {Prompts.Show(c.Prompt)} differ from the reference at step {at}:\n expected {Prompts.Ids(c.GeneratedTokenIds)}\n got      {Prompts.Ids(tokens)}");
    }

    [Theory]
    [MemberData(nameof(Prompts.ReferenceIndices), MemberType = typeof(Prompts))]
    public void LlamaCppPromptLogitsMatchTheReference(int index)
    {
        var c = Prompts.ReferenceCases[index];
        if (c.Logits.Count == 0)
        {
            output.WriteLine($"{Prompts.Show(c.Prompt)}: the reference has no logits for this case");
            return;
        }
        var expected = c.Logits[0];
        var actual = fixture.LlamaCpp.PromptLogits(c.PromptTokenIds);
        Assert.True(expected.Length == actual.Length, $"llama.cpp logits: expected {expected.Length} values, got {actual.Length}");
        var (worst, at) = MaxAbsDifference(expected, actual);
        output.WriteLine($"{Prompts.Show(c.Prompt)}: llama.cpp vs reference logits, max |diff| {worst:G3} at token {at}");
        Assert.True(worst <= LogitTolerance,
            $"llama.cpp logits at the last prompt position of {Prompts.Show(c.Prompt)}: expected within {LogitTolerance} of the reference, token {at} differs by {worst} (reference {expected[at]}, llama.cpp {actual[at]})");
    }

    internal static (float Worst, int At) MaxAbsDifference(float[] expected, float[] actual)
    {
        var worst = 0f;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = MathF.Abs(expected[i] - actual[i]);
            if (d > worst || float.IsNaN(d))
            {
                worst = float.IsNaN(d) ? float.PositiveInfinity : d;
                at = i;
            }
        }
        return (worst, at);
    }
}
