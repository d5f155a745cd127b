using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// Beam search on small fake models whose logits depend on the last token only, so every sequence's probability is
/// known exactly: against a brute-force search (with beams wide enough to be exhaustive), against the documented
/// algorithm step by step, and on a hand-made model for length penalty and early stopping.
/// </summary>
public sealed class BeamSearchTests
{
    private const int Eos = TestTokenizer.Eos;

    private static float[][] RandomTable(int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, vocab).Select(_ => Enumerable.Range(0, vocab).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray()).ToArray();
    }

    private static double Score(double cumulative, int length, double lengthPenalty) => cumulative / Math.Pow(Math.Max(1, length), lengthPenalty);

    /// <summary>Every output the model can produce (ending at EOS or at max_tokens), with its exact cumulative log-probability.</summary>
    private static List<(int[] Tokens, double Cum)> AllOutputs(float[][] table, int last, int maxTokens)
    {
        var all = new List<(int[], double)>();
        void Walk(List<int> output, int previous, double cum)
        {
            var lp = Models.LogSoftmax(table[previous]);
            for (var t = 0; t < table.Length; t++)
            {
                output.Add(t);
                if (t == Eos || output.Count == maxTokens) all.Add((output.ToArray(), cum + lp[t]));
                else Walk(output, t, cum + lp[t]);
                output.RemoveAt(output.Count - 1);
            }
        }
        Walk([], last, 0);
        return all;
    }

    private static (GenerationResult Result, EngineHarness Harness) Run(float[][] table, int[] prompt, SamplingParams p, int blocks = 256, int maxSequences = 64, SchedulerOptions? options = null)
    {
        var vocab = table.Length;
        var runner = new ScriptedRunner(vocab, context: 64, blocks: blocks, blockSize: 4, maxBatchTokens: 256, maxSequences: maxSequences) { Model = Models.ByLastToken(table) };
        var h = new EngineHarness(runner, options, TestTokenizer.Create(vocab));
        var r = h.Add(prompt, p);
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        Assert.Equal(p.N, chunks.Count); // beams are not streamed: one chunk per returned beam
        var result = EngineHarness.Assemble(prompt, chunks);
        h.AssertQuiescent();
        return (result, h);
    }

    [Theory]
    [InlineData(8, 2, 0f, 7, 1)]
    [InlineData(8, 2, 1f, 7, 2)]
    [InlineData(8, 2, 2f, 7, 3)]
    [InlineData(5, 3, 1f, 4, 4)]
    [InlineData(5, 3, 0.5f, 4, 5)]
    [InlineData(5, 3, -1f, 3, 6)]
    public void ABeamWideEnoughToBeExhaustiveFindsTheBruteForceBest(int vocab, int maxTokens, float lengthPenalty, int n, int seed)
    {
        var table = RandomTable(vocab, seed);
        int[] prompt = [3, 4];
        var p = new SamplingParams { Temperature = 0, BeamWidth = 64, N = n, MaxTokens = maxTokens, LengthPenalty = lengthPenalty, Logprobs = 1 };
        var (result, _) = Run(table, prompt, p);

        var best = AllOutputs(table, prompt[^1], maxTokens).OrderByDescending(o => Score(o.Cum, o.Tokens.Length, lengthPenalty)).Take(n).ToList();
        Assert.Equal(n, result.Outputs.Count);
        for (var i = 0; i < n; i++)
        {
            var output = result.Outputs[i];
            Assert.Equal(i, output.Index);
            Assert.Equal(best[i].Tokens, output.TokenIds);
            Assert.Equal(best[i].Tokens[^1] == Eos ? FinishReason.Stop : FinishReason.Length, output.FinishReason);
            Assert.Equal(best[i].Cum, output.CumulativeLogprob, 4);
        }
        Assert.Equal(new UsageInfo(2, best.Sum(b => b.Tokens.Length), 0), result.Usage);
    }

    [Fact]
    public void TheLengthPenaltyChangesWhichBeamIsBest()
    {
        // The first table (by seed) on which the two penalties disagree.
        var table = Enumerable.Range(1, 100).Select(seed => RandomTable(8, seed)).First(t =>
        {
            var all = AllOutputs(t, 4, 2);
            return !all.MaxBy(o => Score(o.Cum, o.Tokens.Length, 0))!.Tokens.SequenceEqual(all.MaxBy(o => Score(o.Cum, o.Tokens.Length, 2))!.Tokens);
        });
        var outputs = AllOutputs(table, 4, 2);
        var byCum = outputs.MaxBy(o => Score(o.Cum, o.Tokens.Length, 0))!.Tokens;
        var byLength = outputs.MaxBy(o => Score(o.Cum, o.Tokens.Length, 2))!.Tokens;
        Assert.NotEqual(byCum, byLength);
        var p = new SamplingParams { Temperature = 0, BeamWidth = 64, MaxTokens = 2 };
        Assert.Equal(byCum, Run(table, [3, 4], p with { LengthPenalty = 0 }).Result.Output.TokenIds);
        Assert.Equal(byLength, Run(table, [3, 4], p with { LengthPenalty = 2 }).Result.Output.TokenIds);
    }

    /// <summary>
    /// From 3: 4 (0.9), EOS (0.05), 5 (0.03). From 4: 6 (0.95), 7 (0.02). From 5: EOS (0.99). From 6: EOS (0.95).
    /// Anything else: EOS (0.5). With two beams: step 1 finishes [EOS] and keeps [4], [5]; step 2 finishes [5, EOS]
    /// and keeps [4, 6], [4, 7]: two hypotheses exist while [4, 6] is still far better than both; step 3 finishes
    /// [4, 6, EOS] and [4, 7, EOS], and the live beams [4, 6, 0], [4, 6, 1] can no longer win.
    /// </summary>
    private static float[][] HandMadeTable()
    {
        var table = new float[8][];
        for (var t = 0; t < 8; t++) table[t] = Models.LogProbabilities(8, (Eos, 0.5));
        table[3] = Models.LogProbabilities(8, (4, 0.90), (Eos, 0.05), (5, 0.03));
        table[4] = Models.LogProbabilities(8, (6, 0.95), (7, 0.02));
        table[5] = Models.LogProbabilities(8, (Eos, 0.99));
        table[6] = Models.LogProbabilities(8, (Eos, 0.95));
        return table;
    }

    [Theory]
    [InlineData(true, 0f, new[] { 2 }, new[] { 5, 2 })] // stops with the first two hypotheses
    [InlineData(false, 0f, new[] { 4, 6, 2 }, new[] { 2 })] // goes on while a live beam can still win
    [InlineData(false, 1f, new[] { 4, 6, 2 }, new[] { 4, 7, 2 })] // per-token scores favour the longer [4, 7, EOS] over [EOS]
    public void EarlyStoppingAndLengthPenaltyBehaveAsDocumented(bool earlyStopping, float lengthPenalty, int[] first, int[] second)
    {
        var p = new SamplingParams { Temperature = 0, BeamWidth = 2, N = 2, MaxTokens = 4, LengthPenalty = lengthPenalty, EarlyStopping = earlyStopping };
        var (result, h) = Run(HandMadeTable(), [3], p);
        Assert.Equal(first, result.Outputs[0].TokenIds);
        Assert.Equal(second, result.Outputs[1].TokenIds);
        Assert.All(result.Outputs, o => Assert.Equal(FinishReason.Stop, o.FinishReason));
        Assert.Equal(earlyStopping ? 2 : 3, h.Runner.Steps.Count(s => s.TokenCount > 0));
    }

    /// <summary>The documented algorithm, written out plainly over the exact model.</summary>
    private static List<(int[] Tokens, bool Eos)> Reference(float[][][] steps, int last, SamplingParams p)
    {
        var w = p.BeamWidth;
        var beams = new List<(List<int> Out, double Cum)> { ([], 0) };
        var hyps = new List<(List<int> Out, double Cum, bool Eos)>();
        double S(List<int> o, double cum) => Score(cum, o.Count, p.LengthPenalty);
        void Add(List<int> o, double cum, bool eos)
        {
            hyps.Add((o, cum, eos));
            if (hyps.Count > w) hyps.Remove(hyps.MinBy(x => S(x.Out, x.Cum)));
        }
        while (beams.Count > 0)
        {
            var candidates = new List<(double Score, int Beam, int Token)>();
            for (var b = 0; b < beams.Count; b++)
            {
                var row = RowAt(steps, beams[b].Out.Count, beams[b].Out.Count > 0 ? beams[b].Out[^1] : last);
                var lp = Models.LogSoftmax(row);
                var top = Enumerable.Range(0, row.Length).OrderByDescending(t => row[t]).ThenBy(t => t).Take(2 * w);
                candidates.AddRange(top.Select(t => (beams[b].Cum + lp[t], b, t)));
            }
            candidates = candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Beam).ThenBy(c => c.Token).ToList();
            var next = new List<(List<int> Out, double Cum)>();
            for (var rank = 0; rank < candidates.Count && next.Count < w; rank++)
            {
                var (score, b, t) = candidates[rank];
                var output = beams[b].Out.Append(t).ToList();
                if (t == Eos)
                {
                    if (rank < w) Add(output, score, true);
                }
                else next.Add((output, score));
            }
            beams = [];
            foreach (var beam in next)
            {
                if (beam.Out.Count >= p.MaxTokens) Add(beam.Out, beam.Cum, false);
                else beams.Add(beam);
            }
            if (beams.Count > 0 && hyps.Count >= w && (p.EarlyStopping || beams.Max(x => S(x.Out, x.Cum)) <= hyps.Min(x => S(x.Out, x.Cum)))) beams.Clear();
        }
        return hyps.OrderByDescending(x => S(x.Out, x.Cum)).Take(p.N).Select(x => (x.Out.ToArray(), x.Eos)).ToList();
    }

    /// <summary>A model whose logits depend on the last token and on how many tokens were generated (no exact ties between permuted paths).</summary>
    private static float[][][] RandomSteps(int vocab, int steps, int seed) => Enumerable.Range(0, steps).Select(i => RandomTable(vocab, seed * 100 + i)).ToArray();

    private static float[] RowAt(float[][][] steps, int step, int last) => steps[Math.Min(step, steps.Length - 1)][last];

    [Theory]
    [InlineData(2, 1f, false, 11)]
    [InlineData(3, 1f, false, 12)]
    [InlineData(3, 0f, true, 13)]
    [InlineData(4, 2f, false, 14)]
    [InlineData(2, 0.5f, true, 15)]
    public void NarrowBeamsFollowTheDocumentedAlgorithm(int width, float lengthPenalty, bool earlyStopping, int seed)
    {
        var steps = RandomSteps(12, 7, seed);
        var p = new SamplingParams { Temperature = 0, BeamWidth = width, N = width, MaxTokens = 7, LengthPenalty = lengthPenalty, EarlyStopping = earlyStopping };
        var expected = Reference(steps, 5, p);
        var runner = new ScriptedRunner(12, context: 64, blocks: 64, blockSize: 4) { Model = (ctx, row) => RowAt(steps, ctx.Length - 2, ctx[^1]).CopyTo(row) };
        var h = new EngineHarness(runner, tokenizer: TestTokenizer.Create(12));
        var r = h.Add([1, 5], p);
        h.Run();
        var result = EngineHarness.Result(r);
        h.AssertQuiescent();
        Assert.Equal(expected.Select(e => e.Tokens), result.Outputs.Select(o => o.TokenIds));
        Assert.Equal(expected.Select(e => e.Eos ? FinishReason.Stop : FinishReason.Length), result.Outputs.Select(o => o.FinishReason));
    }

    [Fact]
    public void BeamsThatArePreemptedAndRecomputedEndTheSame()
    {
        var table = RandomTable(12, 21);
        var p = new SamplingParams { Temperature = 0, BeamWidth = 3, N = 2, MaxTokens = 8 };
        var alone1 = Run(table, [1, 2, 3, 4], p).Result;
        var alone2 = Run(table, [4, 3, 2, 1], p).Result;

        // Each needs 7 blocks of 4 at most (1 shared prompt block, 2 per beam); the pool has 10.
        var runner = new ScriptedRunner(12, context: 64, blocks: 10, blockSize: 4, maxBatchTokens: 64, maxSequences: 16) { Model = Models.ByLastToken(table) };
        var h = new EngineHarness(runner, tokenizer: TestTokenizer.Create(12));
        var a = h.Add([1, 2, 3, 4], p);
        var b = h.Add([4, 3, 2, 1], p);
        h.Run();
        Assert.True(h.Scheduler.TotalPreemptions > 0, "the pool is too small for both: one must give way");
        Assert.Equal(alone1.Outputs.Select(o => o.TokenIds), EngineHarness.Result(a).Outputs.Select(o => o.TokenIds));
        Assert.Equal(alone2.Outputs.Select(o => o.TokenIds), EngineHarness.Result(b).Outputs.Select(o => o.TokenIds));
        h.AssertQuiescent();
    }

    [Fact]
    public void ABeamRequestWhosePromptIsCachedIsAdmitted()
    {
        // 5 prompt tokens: the first 4 (all but the last) are one full block, cached after the first request.
        var table = RandomTable(8, 3);
        var runner = new ScriptedRunner(8, context: 64, blocks: 32, blockSize: 4) { Model = Models.ByLastToken(table) };
        var h = new EngineHarness(runner, tokenizer: TestTokenizer.Create(8));
        var p = new SamplingParams { Temperature = 0, BeamWidth = 2, MaxTokens = 4 };
        int[] prompt = [3, 4, 5, 6, 7];
        var first = h.Add(prompt, p);
        h.Run();
        var second = h.Add(prompt, p);
        h.Run(maxSteps: 50);
        var r2 = EngineHarness.Result(second);
        Assert.Equal(EngineHarness.Result(first).Output.TokenIds, r2.Output.TokenIds);
        Assert.Equal(4, r2.Usage.CachedPromptTokens);
        h.AssertQuiescent();
    }
}
