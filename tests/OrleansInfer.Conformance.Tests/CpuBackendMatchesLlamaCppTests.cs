using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// The same converted f32 file run by our engine (CpuModelRunner + LlmEngine, greedy) and by llama.cpp
/// gives the same token ids, prompt for prompt.
/// </summary>
[Collection(F32ModelCollection.Name)]
public sealed class CpuBackendMatchesLlamaCppTests(F32ModelFixture fixture, ITestOutputHelper output)
{
    private const float LogitTolerance = 1e-3f;

    [Theory]
    [MemberData(nameof(Prompts.ReferenceIndices), MemberType = typeof(Prompts))]
    public void ReferencePromptsGiveLlamaCppsTokens(int index)
    {
        var c = Prompts.ReferenceCases[index];
        AssertSameGreedyTokens(c.Prompt, c.PromptTokenIds);
    }

    [Theory]
    [MemberData(nameof(Prompts.ExtraPrompts), MemberType = typeof(Prompts))]
    public void OtherPromptsGiveLlamaCppsTokens(string prompt)
    {
        var ids = fixture.LlamaCpp.Tokenize(prompt, addBos: true);
        AssertSameGreedyTokens(prompt, ids);
    }

    [Fact]
    public void AllPromptsBatchedTogetherGiveLlamaCppsTokens()
    {
        var prompts = Prompts.ReferenceCases.Select(c => (c.Prompt, Ids: c.PromptTokenIds))
            .Concat(Prompts.Extra.Select(p => (Prompt: p, Ids: fixture.LlamaCpp.Tokenize(p, addBos: true))))
            .ToList();
        var ours = fixture.Ours.GenerateGreedy(prompts.Select(p => p.Ids).ToList(), Prompts.GeneratedTokens);
        for (var i = 0; i < prompts.Count; i++)
        {
            var theirs = fixture.LlamaCpp.GenerateGreedy(prompts[i].Ids, Prompts.GeneratedTokens, stopAtEos: false);
            var at = Prompts.FirstDifference(theirs, ours[i]);
            Assert.True(at < 0,
                $"prompt {i} {Prompts.Show(prompts[i].Prompt)} in a batch of {prompts.Count}: our greedy tokens differ from llama.cpp's at step {at}:\n expected {Prompts.Ids(theirs)}\n got      {Prompts.Ids(ours[i])}");
        }
    }

    [Theory]
    [MemberData(nameof(Prompts.ReferenceIndices), MemberType = typeof(Prompts))]
    public void PromptLogitsMatchLlamaCpps(int index)
    {
        var c = Prompts.ReferenceCases[index];
        var theirs = fixture.LlamaCpp.PromptLogits(c.PromptTokenIds);
        var ours = fixture.Ours.PromptLogits(c.PromptTokenIds);
        Assert.True(theirs.Length == ours.Length, $"logits: expected {theirs.Length} values (llama.cpp), got {ours.Length}");
        var (worst, at) = LlamaCppReadsOurGgufTests.MaxAbsDifference(theirs, ours);
        output.WriteLine($"{Prompts.Show(c.Prompt)}: ours vs llama.cpp logits, max |diff| {worst:G3} at token {at}");
        Assert.True(worst <= LogitTolerance,
            $"our logits at the last prompt position of {Prompts.Show(c.Prompt)}: expected within {LogitTolerance} of llama.cpp's, token {at} differs by {worst} (llama.cpp {theirs[at]}, ours {ours[at]})");
    }

    private void AssertSameGreedyTokens(string prompt, int[] ids)
    {
        var theirs = fixture.LlamaCpp.GenerateGreedy(ids, Prompts.GeneratedTokens, stopAtEos: false);
        var ours = fixture.Ours.GenerateGreedy([ids], Prompts.GeneratedTokens)[0];
        output.WriteLine($"{Prompts.Show(prompt)} {Prompts.Ids(ids)} -> {Prompts.Ids(theirs)}");
        output.WriteLine($"  text: {fixture.LlamaCpp.Detokenize(theirs)}");
        var at = Prompts.FirstDifference(theirs, ours);
        Assert.True(at < 0,
            $"greedy tokens after {Prompts.Show(prompt)} {Prompts.Ids(ids)}: ours differ from llama.cpp's at step {at}:\n expected {Prompts.Ids(theirs)}\n got      {Prompts.Ids(ours)}");
    }
}
