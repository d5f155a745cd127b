using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Sampling through the engine: stops, penalties, log-probabilities, seeds, parallel samples and best_of.</summary>
public sealed class SamplingEngineTests
{
    private const int Vocab = 8;

    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    private static ulong ChildSeed(ulong seed, int index) => unchecked(seed + (ulong)index * 0x9E3779B97F4A7C15UL);

    private static GenerationResult RunOne(ScriptedRunner runner, int[] prompt, SamplingParams p, SchedulerOptions? options = null, Model.Tokenization.Tokenizer? tokenizer = null)
    {
        var h = new EngineHarness(runner, options, tokenizer);
        var r = h.Add(prompt, p);
        h.Run();
        var result = EngineHarness.Result(r);
        h.AssertQuiescent();
        return result;
    }

    private static int[] Solo(int[] prompt, SamplingParams p) =>
        RunOne(new ScriptedRunner { Model = Models.ContextHash() }, prompt, p).Output.TokenIds;

    [Fact]
    public void AStopTokenEndsTheOutputAndStaysInItsIds()
    {
        // From 5 the model says 0, 1, 4, 5, ...
        var output = RunOne(new ScriptedRunner(), [5], Greedy(10) with { StopTokenIds = [4] }).Output;
        Assert.Equal([0, 1, 4], output.TokenIds);
        Assert.Equal(FinishReason.Stop, output.FinishReason);

        // Stop token ids apply even when EOS is ignored; EOS itself then does not stop.
        output = RunOne(new ScriptedRunner(), [3], Greedy(10) with { IgnoreEos = true, StopTokenIds = [4] }).Output;
        Assert.Equal([2, 7, 6, 3, 2, 7, 6, 3, 2, 7], output.TokenIds);
        Assert.Equal(FinishReason.Length, output.FinishReason);
        output = RunOne(new ScriptedRunner(), [3], Greedy(10) with { IgnoreEos = true, StopTokenIds = [6] }).Output;
        Assert.Equal([2, 7, 6], output.TokenIds);
        Assert.Equal(FinishReason.Stop, output.FinishReason);
    }

    private static (GenerationResult Result, List<GenerationChunk> Chunks) Spell(string script, SamplingParams p)
    {
        var tokenizer = TestTokenizer.Create(40);
        var runner = new ScriptedRunner(vocab: 40) { Model = Models.Script(1, TestTokenizer.Ids(script)) };
        var h = new EngineHarness(runner, tokenizer: tokenizer);
        var r = h.Add(TestTokenizer.Ids("x"), p);
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        h.AssertQuiescent();
        return (EngineHarness.Assemble(r.Prompt, chunks), chunks);
    }

    [Fact]
    public void AStopStringAcrossTokensEndsTheOutputAndIsNeverSent()
    {
        var (result, chunks) = Spell("hello world", Greedy(20) with { Stop = ["lo w"] });
        Assert.Equal("hel", result.Output.Text);
        Assert.Equal(TestTokenizer.Ids("hello w"), result.Output.TokenIds);
        Assert.Equal(FinishReason.Stop, result.Output.FinishReason);
        // Text that could begin the stop string is held back, never sent and taken back.
        Assert.Equal(["", "", "", "h", "e", "l", ""], chunks.Select(c => c.Text));
    }

    [Fact]
    public void HeldBackTextIsSentWhenNoStopStringCompletes()
    {
        var (result, chunks) = Spell("hello world", Greedy(11) with { Stop = ["xyz"] });
        Assert.Equal("hello world", result.Output.Text);
        Assert.Equal(FinishReason.Length, result.Output.FinishReason);
        Assert.Equal(["", "", "h", "e", "l", "l", "o", " ", "w", "o", "rld"], chunks.Select(c => c.Text));
    }

    [Theory]
    [InlineData("wor|o w", "hell", "hello w")] // the stop string that completes first wins
    [InlineData("he", "", "he")]
    [InlineData("d", "hello worl", "hello world")]
    public void TheEarliestStopStringCutsTheText(string stops, string text, string tokens)
    {
        var (result, _) = Spell("hello world!!", Greedy(20) with { Stop = stops.Split('|') });
        Assert.Equal(text, result.Output.Text);
        Assert.Equal(TestTokenizer.Ids(tokens), result.Output.TokenIds);
        Assert.Equal(FinishReason.Stop, result.Output.FinishReason);
    }

    private static float[] PenaltyRow()
    {
        var row = Enumerable.Repeat(-10f, Vocab).ToArray();
        row[3] = 1.0f;
        row[4] = 0.5f;
        return row;
    }

    [Theory]
    [InlineData(0.6f, 0f, 1f, 5, new[] { 3, 4, 3, 3, 3, 3 })] // presence: once per token seen
    [InlineData(0f, 0.3f, 1f, 5, new[] { 3, 3, 4, 3, 4, 3 })] // frequency: per occurrence
    [InlineData(0f, 0f, 2.5f, 5, new[] { 3, 4, 3, 3, 3, 3 })] // repetition: output tokens
    [InlineData(0f, 0f, 2.5f, 3, new[] { 4, 3, 3, 3, 3, 3 })] // repetition: prompt tokens too
    [InlineData(0f, 0f, 1f, 5, new[] { 3, 3, 3, 3, 3, 3 })]
    public void PenaltiesChangeTheDistributionAsDefined(float presence, float frequency, float repetition, int promptToken, int[] expected)
    {
        var runner = new ScriptedRunner { Model = Models.Fixed(PenaltyRow()) };
        var p = Greedy(6) with { PresencePenalty = presence, FrequencyPenalty = frequency, RepetitionPenalty = repetition, Logprobs = 1 };
        var output = RunOne(runner, [promptToken], p).Output;
        Assert.Equal(expected, output.TokenIds);

        // The reported log-probabilities are those of the penalized logits.
        var counts = new Dictionary<int, int>();
        for (var i = 0; i < expected.Length; i++)
        {
            var row = PenaltyRow();
            for (var t = 0; t < Vocab; t++)
            {
                var seen = t == promptToken || counts.ContainsKey(t);
                if (seen && repetition != 1f) row[t] = row[t] > 0 ? row[t] / repetition : row[t] * repetition;
                if (counts.TryGetValue(t, out var c)) row[t] -= presence + frequency * c;
            }
            var expectedLogprob = Models.LogSoftmax(row)[expected[i]];
            Assert.Equal(expectedLogprob, output.Logprobs![i].Logprob, 5);
            counts[expected[i]] = counts.GetValueOrDefault(expected[i]) + 1;
        }
    }

    private static readonly float[] LogprobRow = [1.0f, -1f, 2.5f, 1.5f, 0f, -0.5f, 3f, 1.0f];

    [Fact]
    public void LogprobsAreTheTopNSortedAndTheSampledTokensLogSoftmax()
    {
        var runner = new ScriptedRunner { Model = Models.Fixed(LogprobRow) };
        var output = RunOne(runner, [4], Greedy(3) with { Logprobs = 5 }).Output;
        var expected = Models.LogSoftmax(LogprobRow);
        Assert.Equal([6, 6, 6], output.TokenIds);
        Assert.Equal(3, output.Logprobs!.Count);
        foreach (var lp in output.Logprobs)
        {
            Assert.Equal(6, lp.TokenId);
            Assert.Equal(expected[6], lp.Logprob, 5);
            Assert.Equal([6, 2, 3, 0, 7], lp.Top.Select(t => t.TokenId)); // ties (0 and 7) by lower id
            for (var i = 0; i < lp.Top.Count; i++) Assert.Equal(expected[lp.Top[i].TokenId], lp.Top[i].Logprob, 5);
        }
        Assert.Equal(3 * expected[6], output.CumulativeLogprob, 4);
    }

    [Fact]
    public void ASampledTokensLogprobIsTheUnscaledLogSoftmax()
    {
        var runner = new ScriptedRunner { Model = Models.Fixed(LogprobRow) };
        var output = RunOne(runner, [4], new SamplingParams { Temperature = 0.7f, Seed = 3, MaxTokens = 40, IgnoreEos = true, Logprobs = 2 }).Output;
        var expected = Models.LogSoftmax(LogprobRow);
        Assert.True(output.TokenIds.Distinct().Count() > 1, "the seed should sample more than one token");
        for (var i = 0; i < output.TokenIds.Length; i++)
        {
            Assert.Equal(output.TokenIds[i], output.Logprobs![i].TokenId);
            Assert.Equal(expected[output.TokenIds[i]], output.Logprobs[i].Logprob, 5);
            Assert.Equal([6, 2], output.Logprobs[i].Top.Select(t => t.TokenId));
        }
    }

    [Fact]
    public void ZeroLogprobsReportsOnlyTheSampledToken()
    {
        var runner = new ScriptedRunner { Model = Models.Fixed(LogprobRow) };
        var output = RunOne(runner, [4], Greedy(2) with { Logprobs = 0 }).Output;
        var expected = Models.LogSoftmax(LogprobRow);
        Assert.All(output.Logprobs!, lp =>
        {
            Assert.Empty(lp.Top);
            Assert.Equal(expected[6], lp.Logprob, 5);
        });
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndIndependentOfTheBatch()
    {
        var p = new SamplingParams { Temperature = 1, MaxTokens = 10, Seed = 7, IgnoreEos = true };
        int[] prompt = [1, 2, 3, 4, 5];
        var alone = Solo(prompt, p);
        Assert.Equal(alone, Solo(prompt, p));
        Assert.NotEqual(alone, Solo(prompt, p with { Seed = 8 }));

        // The same request among others, with prompt chunking and a different step composition.
        var h = new EngineHarness(new ScriptedRunner(blocks: 64) { Model = Models.ContextHash() }, new SchedulerOptions { MaxNumBatchedTokens = 5, MaxNumSeqs = 3 });
        h.Add(Enumerable.Range(0, 9).Select(i => i % Vocab).ToArray(), p with { Seed = 1 });
        h.Add([6], p with { Seed = 7, MaxTokens = 3 });
        var target = h.Add(prompt, p);
        h.Add([2, 2, 2], p with { Seed = null });
        h.Run();
        Assert.Equal(alone, EngineHarness.Result(target).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void ParallelSamplesShareThePromptsBlocksAndStreamWithTheirOwnIndex()
    {
        var h = new EngineHarness(new ScriptedRunner { Model = Models.ContextHash() });
        int[] prompt = [1, 2, 3, 4, 5, 6];
        var p = new SamplingParams { Temperature = 1, MaxTokens = 6, Seed = 11, IgnoreEos = true, N = 3 };
        var r = h.Add(prompt, p);
        h.Step();

        Assert.Equal(3, r.Live.Count);
        var prompts = r.Live[0].Blocks.Ids.ToArray();
        Assert.Equal(2, prompts.Length);
        Assert.All(r.Live, s => Assert.Equal(prompts, s.Blocks.Ids));
        Assert.All(prompts, b => Assert.Equal(3, h.Core.Blocks.ReferenceCount(b)));
        var first = EngineHarness.Drain(r);
        Assert.Equal([0, 1, 2], first.Select(c => c.Index).Order());

        h.Step();
        // Two of the three write into the shared partial block: two copies; the full block stays shared.
        Assert.Equal(2, h.Runner.Steps[1].Copies.Count);
        Assert.Equal(3, h.Core.Blocks.ReferenceCount(prompts[0]));
        h.Run();

        var chunks = first.Concat(EngineHarness.Chunks(r)).ToList();
        var result = EngineHarness.Assemble(prompt, chunks);
        Assert.Equal([0, 1, 2], result.Outputs.Select(o => o.Index));
        for (var i = 0; i < 3; i++) Assert.Equal(Solo(prompt, p with { N = 1, Seed = ChildSeed(11, i) }), result.Outputs[i].TokenIds);
        Assert.Equal(new UsageInfo(6, 18, 0), result.Usage);
        h.AssertQuiescent();
    }

    [Fact]
    public void BestOfReturnsTheNWithTheHighestCumulativeLogprob()
    {
        var model = Models.ContextHash();
        var h = new EngineHarness(new ScriptedRunner { Model = model });
        int[] prompt = [7, 1, 7];
        var p = new SamplingParams { Temperature = 1, MaxTokens = 5, Seed = 5, IgnoreEos = true, N = 2, BestOf = 4 };
        var r = h.Add(prompt, p);
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        Assert.Equal(2, chunks.Count); // not streamed: one chunk per returned output
        var result = EngineHarness.Assemble(prompt, chunks);

        var samples = Enumerable.Range(0, 4).Select(i => Solo(prompt, p with { N = 1, BestOf = null, Seed = ChildSeed(5, i) })).ToList();
        var ranked = samples.Select((t, i) => (Tokens: t, Index: i, Cum: Models.CumulativeLogprob(model, Vocab, prompt, t)))
            .OrderByDescending(x => x.Cum).ThenBy(x => x.Index).ToList();
        Assert.True(ranked.Select(x => x.Tokens).Distinct(new ArrayComparer()).Count() == 4, "the four samples should differ");
        Assert.Equal([0, 1], result.Outputs.Select(o => o.Index));
        Assert.Equal(ranked[0].Tokens, result.Outputs[0].TokenIds);
        Assert.Equal(ranked[1].Tokens, result.Outputs[1].TokenIds);
        Assert.Equal(new UsageInfo(3, 20, 0), result.Usage); // every generated sample counts
        h.AssertQuiescent();

        // With log-probabilities asked for, the outputs carry them (and their sum).
        var withLogprobs = RunOne(new ScriptedRunner { Model = model }, prompt, p with { Logprobs = 0 });
        Assert.Equal(ranked[0].Cum, withLogprobs.Outputs[0].CumulativeLogprob, 4);
        Assert.Equal(ranked[1].Cum, withLogprobs.Outputs[1].CumulativeLogprob, 4);
    }

    [Fact]
    public void TheEnginesDefaultSeedMakesEveryParallelSampleReproducible()
    {
        int[] prompt = [1, 2, 3];
        var p = new SamplingParams { Temperature = 1, MaxTokens = 6, IgnoreEos = true, N = 3 };
        GenerationResult Once()
        {
            var h = new EngineHarness(new ScriptedRunner { Model = Models.ContextHash() }, defaultSeed: 21);
            var r = h.Add(prompt, p);
            h.Run();
            var result = EngineHarness.Result(r);
            h.AssertQuiescent();
            return result;
        }
        var first = Once();
        var second = Once();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(first.Outputs[i].TokenIds, second.Outputs[i].TokenIds);
            Assert.Equal(Solo(prompt, p with { N = 1, Seed = ChildSeed(21, i) }), first.Outputs[i].TokenIds);
        }
    }

    private sealed class ArrayComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(int[] obj) => obj.Aggregate(17, (h, t) => h * 31 + t);
    }
}
