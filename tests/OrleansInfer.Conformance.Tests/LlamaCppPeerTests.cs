using OrleansInfer.Cli.Bench;
using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// The peer's own pieces on the shared stories260K.gguf (f32): batched decoding generates, request for request,
/// the tokens one-sequence greedy generation does (KV positions, chunked prompts and reused sequence ids are
/// right), and every-position logits end with the last-position logits.
/// </summary>
public sealed class LlamaCppPeerTests
{
    [Fact]
    public void BatchedDecodingGivesEachRequestItsOneSequenceGreedyTokens()
    {
        // Three sequence ids for seven requests (ids are reused) and 24 tokens per step (prompts arrive in chunks).
        const int sequences = 3, stepTokens = 24;
        var workload = new ThroughputWorkload(7, (4, 30), (2, 20), Seed: 5).Build(512);
        int[][] batched;
        Engine.Baselines.ThroughputStats stats;
        using (var session = new LlamaCppSession(SharedData.Stories260KGguf, threads: 1, contextSize: sequences * 50, sequences: sequences, batchSize: stepTokens))
        {
            (stats, batched) = PeerThroughputBench.Generate(session, workload, sequences, stepTokens);
        }

        using var single = new LlamaCppSession(SharedData.Stories260KGguf, threads: 1, contextSize: 64);
        for (var i = 0; i < workload.Count; i++)
        {
            var expected = single.GenerateGreedy(workload[i].Prompt, workload[i].OutputTokens, stopAtEos: false);
            Assert.True(expected.SequenceEqual(batched[i]),
                $"request {i} ({workload[i].Prompt.Length} prompt tokens): expected the one-sequence greedy tokens {Prompts.Ids(expected)}, batched decoding gave {Prompts.Ids(batched[i])}");
        }
        var outputs = workload.Sum(w => (long)w.OutputTokens);
        Assert.True(stats.OutputTokens == outputs, $"output tokens: expected {outputs}, got {stats.OutputTokens}");
        var prompts = workload.Sum(w => (long)w.Prompt.Length);
        Assert.True(stats.PromptTokens == prompts, $"prompt tokens: expected {prompts}, got {stats.PromptTokens}");
        Assert.True(stats.MeanBatchSequences is > 1 and <= sequences, $"sequences per step: expected more than 1 and at most {sequences}, got {stats.MeanBatchSequences}");
    }

    [Fact]
    public void EveryPositionLogitsEndWithTheLastPositionLogits()
    {
        using var session = new LlamaCppSession(SharedData.Stories260KGguf, threads: 1, contextSize: 64);
        var c = Prompts.ReferenceCases.Single(r => r.Prompt == "Once upon a time");
        var all = session.AllPromptLogits(c.PromptTokenIds);
        var last = session.PromptLogits(c.PromptTokenIds);
        Assert.True(all.Length == c.PromptTokenIds.Length * session.VocabSize, $"expected {c.PromptTokenIds.Length} x {session.VocabSize} logits, got {all.Length}");
        var (worst, at) = LlamaCppReadsOurGgufTests.MaxAbsDifference(last, all.AsSpan(all.Length - last.Length).ToArray());
        Assert.True(worst <= 1e-4f, $"the last row of every-position logits: expected within 1e-4 of the last-position logits, token {at} differs by {worst}");
        // Position 0 predicts from BOS alone: not the same distribution as the last position's.
        var (first, _) = LlamaCppReadsOurGgufTests.MaxAbsDifference(last, all.AsSpan(0, last.Length).ToArray());
        Assert.True(first > 0.1f, $"position 0's logits: expected to differ from the last position's, max |diff| {first}");
    }

    [Theory]
    [InlineData("q4_k_m", "MOSTLY_Q4_K_M")]
    [InlineData("Q8_0", "MOSTLY_Q8_0")]
    [InlineData("f32", "ALL_F32")]
    [InlineData("Q6_K", "MOSTLY_Q6_K")]
    public void QuantizeTypeNamesParseToLlamaCppFileTypes(string name, string expected)
    {
        var type = Quantizer.TryParse(name);
        Assert.True(type?.ToString() == expected, $"'{name}': expected {expected}, got {type?.ToString() ?? "null"}");
    }

    [Theory]
    [InlineData("Q4_K")]
    [InlineData("IQ2_XXS")]
    [InlineData("q8")]
    public void UnknownQuantizeTypeNamesAreRefused(string name) =>
        Assert.True(Quantizer.TryParse(name) is null, $"'{name}': expected no llama.cpp file type, got {Quantizer.TryParse(name)}");
}
