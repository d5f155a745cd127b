using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Step-by-step scheduling through <c>EngineCore</c>: budgets, chunked prefill, preemption, policies, cancellation, runner failures.</summary>
public sealed class SchedulerTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    /// <summary>Seeded sampling on the context-hash model: the tokens depend on the RNG state and on every KV slot.</summary>
    private static SamplingParams Seeded(int maxTokens, ulong seed) => new() { Temperature = 1, MaxTokens = maxTokens, Seed = seed, IgnoreEos = true };

    private static int[] Solo(int[] prompt, SamplingParams p, ScriptedRunner.ModelFunction? model = null)
    {
        var h = new EngineHarness(new ScriptedRunner(blocks: 64, context: 128));
        if (model is not null) h.Runner.Model = model;
        var r = h.Add(prompt, p);
        h.Run();
        var tokens = EngineHarness.Result(r).Output.TokenIds;
        h.AssertQuiescent();
        return tokens;
    }

    private static IEnumerable<(int Step, SequenceRecord Seq)> Scheduled(ScriptedRunner runner) =>
        runner.Steps.SelectMany((s, i) => s.Sequences.Select(q => (i, q)));

    [Fact]
    public void RequestsRunTogetherAndEndByLengthOrEos()
    {
        var h = new EngineHarness(new ScriptedRunner());
        // From 3 the model says 2, the EOS, at once. From 4: 5, 0, 1, 4, 5 (no EOS in 5 steps).
        var a = h.Add([1, 3], Greedy(5));
        var b = h.Add([1, 4], Greedy(5));
        h.Run();

        var ra = EngineHarness.Result(a);
        Assert.Equal([2], ra.Output.TokenIds);
        Assert.Equal(FinishReason.Stop, ra.Output.FinishReason);
        Assert.Equal("", ra.Output.Text);
        Assert.Equal(new Outputs.UsageInfo(2, 1, 0), ra.Usage);

        var chunks = EngineHarness.Chunks(b);
        Assert.Equal(5, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(0, c.Index));
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
        var rb = EngineHarness.Assemble(b.Prompt, chunks);
        Assert.Equal(ScriptedRunner.Expected(4, 5), rb.Output.TokenIds);
        Assert.Equal(FinishReason.Length, rb.Output.FinishReason);
        Assert.Equal("c\u2585bc", rb.Output.Text); // 5 'c', 0 <unk>, 1 <s> (no text), 4 'b', 5 'c'
        Assert.Equal(new Outputs.UsageInfo(2, 5, 0), rb.Usage);

        // Step 1 holds both prompts; step 2 releases a's sequence and decodes b.
        Assert.Equal([2, 2], h.Runner.Steps[0].Sequences.Select(s => s.TokenCount));
        Assert.Equal(EngineHarness.SequenceIds(a), h.Runner.Steps[1].Released);
        h.AssertQuiescent();
    }

    [Fact]
    public void IgnoreEosKeepsGenerating()
    {
        var h = new EngineHarness(new ScriptedRunner());
        var r = h.Add([3], Greedy(5) with { IgnoreEos = true });
        h.Run();
        var result = EngineHarness.Result(r).Output;
        Assert.Equal(ScriptedRunner.Expected(3, 5), result.TokenIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        h.AssertQuiescent();
    }

    [Fact]
    public void TheTokenBudgetAndTheSequenceCapHoldEveryStep()
    {
        var h = new EngineHarness(new ScriptedRunner(blocks: 64), new SchedulerOptions { MaxNumBatchedTokens = 7, MaxNumSeqs = 3 });
        Assert.Equal(7, h.Core.MaxNumBatchedTokens);
        Assert.Equal(3, h.Core.MaxNumSeqs);
        var requests = Enumerable.Range(1, 8).Select(n => h.Add(Enumerable.Range(0, n).Select(i => (i * 5 + n) % 8).ToArray(), Greedy(4) with { IgnoreEos = true })).ToList();
        h.Run();

        foreach (var (step, i) in h.Runner.Steps.Select((s, i) => (s, i)))
        {
            Assert.True(step.TokenCount <= 7, $"step {i} carries {step.TokenCount} tokens over the budget of 7");
            Assert.True(step.Sequences.Count <= 3, $"step {i} carries {step.Sequences.Count} sequences over the cap of 3");
        }
        Assert.Equal(7, h.Runner.Steps.Max(s => s.TokenCount));
        Assert.Equal(3, h.Runner.Steps.Max(s => s.Sequences.Count));
        Assert.All(h.Stats, s => Assert.True(s.ScheduledTokens <= 7 && s.ScheduledSequences <= 3));
        foreach (var r in requests) Assert.Equal(ScriptedRunner.Expected(r.Prompt[^1], 4), EngineHarness.Result(r).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void ALongPromptIsPrefilledInChunksWithLogitsOnlyOnTheLast()
    {
        var h = new EngineHarness(new ScriptedRunner(), new SchedulerOptions { MaxNumBatchedTokens = 4 });
        var prompt = Enumerable.Range(0, 10).Select(i => i % 8).ToArray();
        var r = h.Add(prompt, Greedy(2));

        h.Step();
        h.Step();
        Assert.Empty(EngineHarness.Drain(r)); // nothing sampled before the last chunk
        h.Step();
        Assert.Single(EngineHarness.Drain(r));
        h.Run();

        var steps = h.Runner.Steps.Where(s => s.Sequences.Count > 0).Select(s => s.Sequences.Single()).ToList();
        Assert.Equal([(0, 4, false), (4, 4, false), (8, 2, true), (10, 1, true)], steps.Select(s => (s.StartPosition, s.TokenCount, s.ComputeLogits)));
        Assert.Equal(prompt, steps.Take(3).SelectMany(s => s.Tokens));
        Assert.Equal([(4, 0), (4, 0), (2, 0), (0, 1)], h.Stats.Take(4).Select(s => (s.PrefillTokens, s.DecodeTokens)));
        h.AssertQuiescent();
    }

    [Fact]
    public void PromptChunksShareStepsWithDecodesWhichGoFirst()
    {
        var h = new EngineHarness(new ScriptedRunner(), new SchedulerOptions { MaxNumBatchedTokens = 6 });
        var a = h.Add([1, 4], Greedy(10) with { IgnoreEos = true });
        h.Step();
        var b = h.Add(Enumerable.Range(0, 13).Select(i => (i * 3) % 8).ToArray(), Greedy(2) with { IgnoreEos = true });
        h.Run();

        var aId = EngineHarness.SequenceIds(a).Single();
        var bId = EngineHarness.SequenceIds(b).Single();
        var mixed = h.Runner.Steps.Skip(1).Take(4).Select(s => s.Sequences.Select(q => (q.SequenceId, q.StartPosition, q.TokenCount, q.ComputeLogits)).ToArray()).ToList();
        Assert.Equal([(aId, 2, 1, true), (bId, 0, 5, false)], mixed[0]);
        Assert.Equal([(aId, 3, 1, true), (bId, 5, 5, false)], mixed[1]);
        Assert.Equal([(aId, 4, 1, true), (bId, 10, 3, true)], mixed[2]);
        Assert.Equal([(aId, 5, 1, true), (bId, 13, 1, true)], mixed[3]);
        Assert.Equal(ScriptedRunner.Expected(4, 10), EngineHarness.Result(a).Output.TokenIds);
        Assert.Equal(ScriptedRunner.Expected(b.Prompt[^1], 2), EngineHarness.Result(b).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void AtTheContextLengthTheSequenceEndsWithLength()
    {
        var h = new EngineHarness(new ScriptedRunner(context: 12));
        var r = h.Add(new int[10], Greedy(50));
        h.Run();
        var output = EngineHarness.Result(r).Output;
        Assert.Equal([1, 4], output.TokenIds);
        Assert.Equal(FinishReason.Length, output.FinishReason);
        h.AssertQuiescent();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhenBlocksRunOutTheNewestGivesWayIsRecomputedAndKeepsItsPlace(bool prefixCaching)
    {
        // 6 blocks of 4; a and b each grow to 16 tokens (4 blocks): both cannot finish together.
        var h = new EngineHarness(new ScriptedRunner(blocks: 6, blockSize: 4), new SchedulerOptions { MaxNumSeqs = 2, EnablePrefixCaching = prefixCaching });
        h.Runner.Model = Models.ContextHash();
        var pa = Seeded(12, 1);
        var pb = Seeded(12, 2);
        var pc = Seeded(2, 3);
        var a = h.Add([3, 4, 5, 6], pa);
        var b = h.Add([6, 5, 4, 3], pb);
        var c = h.Add([7, 7], pc); // waits: two sequences at most

        for (var i = 0; i < 9; i++) Assert.Equal(0, h.Step().Preemptions);
        Assert.Equal(0, h.Core.Blocks.FreeBlocks);
        var bId = EngineHarness.SequenceIds(b).Single();
        var aId = EngineHarness.SequenceIds(a).Single();

        // Step 10: a needs a fourth block; b, admitted after a, gives way.
        var stats = h.Step();
        Assert.Equal(1, stats.Preemptions);
        Assert.Equal(1, h.Scheduler.TotalPreemptions);
        Assert.Equal([bId], h.Runner.Steps[9].Released);
        Assert.Equal([aId], h.Runner.Steps[9].Sequences.Select(s => s.SequenceId));
        Assert.Equal(0, b.Live[0].ComputedTokens);
        Assert.Equal(0, b.Live[0].Blocks.Count);
        // The preempted request waits ahead of c, which arrived after it.
        Assert.Equal([b.Id, c.Id], h.Scheduler.Waiting.Select(r => r.Id));
        var sent = EngineHarness.Drain(b); // b's chunks so far stay sent: the recompute does not repeat them
        Assert.Equal(9, sent.Count);

        h.Run();
        var bSteps = Scheduled(h.Runner).Where(x => x.Seq.SequenceId == bId && x.Step > 9).ToList();
        var cId = EngineHarness.SequenceIds(c).Single();
        var cFirst = Scheduled(h.Runner).First(x => x.Seq.SequenceId == cId);
        // b comes back first (c joins the same step, after it), recomputing its 13 tokens less the prefix-cache hit.
        Assert.Equal(bSteps[0].Step, cFirst.Step);
        Assert.Equal([bId, cId], h.Runner.Steps[cFirst.Step].Sequences.Select(s => s.SequenceId));
        var recomputeStart = prefixCaching ? 8 : 0;
        Assert.Equal((recomputeStart, 13 - recomputeStart, true), (bSteps[0].Seq.StartPosition, bSteps[0].Seq.TokenCount, bSteps[0].Seq.ComputeLogits));

        // Everyone ends with exactly the tokens it produces alone.
        var rest = EngineHarness.Chunks(b);
        Assert.Equal(3, rest.Count);
        Assert.Equal(Solo([6, 5, 4, 3], pb, Models.ContextHash()), sent.Concat(rest).SelectMany(x => x.TokenIds));
        Assert.Equal(Solo([3, 4, 5, 6], pa, Models.ContextHash()), EngineHarness.Result(a).Output.TokenIds);
        Assert.Equal(Solo([7, 7], pc, Models.ContextHash()), EngineHarness.Result(c).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void UnderThePriorityPolicyTheLowestPriorityGivesWayEvenIfAdmittedFirst()
    {
        var h = new EngineHarness(new ScriptedRunner(blocks: 6, blockSize: 4), new SchedulerOptions { Policy = SchedulingPolicy.Priority });
        h.Runner.Model = Models.ContextHash();
        var low = h.Add([3, 4, 5, 6], Seeded(12, 1), priority: 9);
        h.Step();
        var high = h.Add([6, 5, 4, 3], Seeded(12, 2), priority: 0);
        var lowId = EngineHarness.SequenceIds(low).Single();
        h.Run();

        var preemption = h.Runner.Steps.FindIndex(s => s.Released.Contains(lowId));
        Assert.True(preemption > 0 && h.Runner.Steps[preemption].Sequences.Count == 1, "low is preempted while high runs");
        Assert.Equal(1, h.Scheduler.TotalPreemptions);
        Assert.Equal(Solo([3, 4, 5, 6], Seeded(12, 1), Models.ContextHash()), EngineHarness.Result(low).Output.TokenIds);
        Assert.Equal(Solo([6, 5, 4, 3], Seeded(12, 2), Models.ContextHash()), EngineHarness.Result(high).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Theory]
    [InlineData(SchedulingPolicy.Fcfs, new[] { 1, 2, 3, 4 })]
    [InlineData(SchedulingPolicy.Priority, new[] { 4, 2, 1, 3 })]
    public void WaitingRequestsAreAdmittedInPolicyOrder(SchedulingPolicy policy, int[] expectedOrder)
    {
        var h = new EngineHarness(new ScriptedRunner(), new SchedulerOptions { Policy = policy, MaxNumSeqs = 1 });
        int[] priorities = [5, 1, 5, 0];
        var requests = priorities.Select(p => h.Add([4], Greedy(2), priority: p)).ToList();
        h.Run();
        var firstSteps = requests.Select(r => Scheduled(h.Runner).First(x => x.Seq.SequenceId == EngineHarness.SequenceIds(r).Single()).Step).ToList();
        var order = requests.Select((r, i) => (r.Id, firstSteps[i])).OrderBy(x => x.Item2).Select(x => (int)x.Id).ToArray();
        Assert.Equal(expectedOrder, order);
        h.AssertQuiescent();
    }

    [Fact]
    public void CancellingMidPrefillFreesEveryBlockAndTheRunnerForgetsAtTheNextStep()
    {
        var h = new EngineHarness(new ScriptedRunner(), new SchedulerOptions { MaxNumBatchedTokens = 4 });
        var other = h.Add([4], Greedy(6) with { IgnoreEos = true });
        var r = h.Add(Enumerable.Range(0, 12).Select(i => i % 8).ToArray(), Greedy(4));
        h.Step(); // other's prompt and 3 tokens of r's
        Assert.Equal(2, h.Runner.LiveSequences);
        var rId = EngineHarness.SequenceIds(r);

        h.Core.Abort(r);
        Assert.Equal(h.Core.Blocks.BlockCount - 1, h.Core.Blocks.FreeBlocks); // only other's block is held
        Assert.IsType<OperationCanceledException>(EngineHarness.Failure(r));
        Assert.Equal(2, h.Runner.LiveSequences);
        h.Step();
        Assert.Equal(rId, h.Runner.Steps[^1].Released);
        Assert.Equal(1, h.Runner.LiveSequences);

        h.Run();
        Assert.Equal(ScriptedRunner.Expected(4, 6), EngineHarness.Result(other).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void CancellingMidDecodeKeepsWhatWasSentAndEndsTheStreamAsCancelled()
    {
        var h = new EngineHarness(new ScriptedRunner());
        var r = h.Add([4], Greedy(20) with { IgnoreEos = true });
        h.Step();
        h.Step();
        h.Step();
        var chunks = EngineHarness.Drain(r);
        Assert.Equal(ScriptedRunner.Expected(4, 3), chunks.SelectMany(c => c.TokenIds));
        h.Core.Abort(r);
        h.Core.Abort(r); // twice is harmless
        Assert.Equal(h.Core.Blocks.BlockCount, h.Core.Blocks.FreeBlocks);
        Assert.IsType<OperationCanceledException>(EngineHarness.Failure(r));
        Assert.Empty(h.Scheduler.Running);
        h.AssertQuiescent();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ARunnerFailureFailsOnlyThatStepsRequests(bool beforeApply)
    {
        var runner = new ScriptedRunner { AllowUnknownReleases = true };
        var h = new EngineHarness(runner, new SchedulerOptions { MaxNumBatchedTokens = 4 });
        var done = h.Add([5], Greedy(1)); // finishes in step 1: its release rides on step 2
        var failing = h.Add(Enumerable.Range(0, 10).Select(i => i % 8).ToArray(), Greedy(3)); // prefilled over steps 1..3
        var waiting = h.Add([4], Greedy(2) with { IgnoreEos = true }); // no budget left until the prompt is in
        if (beforeApply) runner.FailBeforeApply = (call, _) => call == 1;
        else runner.FailAfterApply = (call, _) => call == 1;

        h.Step();
        var e = Assert.Throws<EngineFaultException>(() => h.Core.Step());
        Assert.Equal(EngineFaultException.RunnerStage, e.Stage);
        var cause = Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("scripted failure", cause.Message);
        Assert.Equal($"the model runner failed: {cause.Message}", e.Message);

        Assert.Equal([0], EngineHarness.Result(done).Output.TokenIds);
        var failure = Assert.IsType<EngineFaultException>(EngineHarness.Failure(failing));
        Assert.Contains("model runner failed", failure.Message);
        Assert.Same(e, failure);
        Assert.Equal([waiting], h.Scheduler.Waiting);

        h.Run();
        Assert.Equal(ScriptedRunner.Expected(4, 2), EngineHarness.Result(waiting).Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void ParallelSamplesWiderThanTheSequenceCapStillFinish()
    {
        var h = new EngineHarness(new ScriptedRunner(), new SchedulerOptions { MaxNumSeqs = 2 });
        h.Runner.Model = Models.ContextHash();
        var r = h.Add([3, 4], Seeded(5, 9) with { N = 3 });
        h.Run(maxSteps: 100);
        var result = EngineHarness.Result(r);
        Assert.Equal([0, 1, 2], result.Outputs.Select(o => o.Index));
        Assert.All(result.Outputs, o => Assert.Equal(5, o.TokenIds.Length));
        Assert.All(h.Runner.Steps, s => Assert.True(s.Sequences.Count <= 2));
        h.AssertQuiescent();
    }

    [Fact]
    public void ARequestThatGivesWayAfterPlanningACopySendsNoCopyIntoItsFreedBlocks()
    {
        // 6 blocks of 4. a (8 prompt tokens, admitted first) and r (6 prompt tokens, n = 3) take 2 blocks each.
        // Step 2: a grows into a fifth block; r's three samples share its partial block and two must copy it, but only
        // one block is free: the first copy is planned, the second fails, and r, the newest, gives way.
        var h = new EngineHarness(new ScriptedRunner(blocks: 6, blockSize: 4));
        h.Runner.Model = Models.ContextHash();
        var a = h.Add([1, 2, 3, 4, 5, 6, 7, 1], Seeded(10, 1));
        var r = h.Add([1, 2, 3, 4, 5, 6], Seeded(2, 2) with { N = 3 });
        h.Step();
        Assert.Equal(3, r.Live.Count);
        Assert.Equal(2, h.Core.Blocks.FreeBlocks); // a takes one of these two in step 2, before r
        var parent = r.Live[0].Id; // the samples forked from it were never sent to the runner

        var stats = h.Step();
        Assert.Equal(1, stats.Preemptions);
        var step = h.Runner.Steps[^1];
        Assert.Equal([parent], step.Released);
        Assert.Empty(step.Copies);
        h.Run();

        Assert.Equal(Solo([1, 2, 3, 4, 5, 6, 7, 1], Seeded(10, 1), Models.ContextHash()), EngineHarness.Result(a).Output.TokenIds);
        var outputs = EngineHarness.Result(r).Outputs;
        for (var i = 0; i < 3; i++)
            Assert.Equal(Solo([1, 2, 3, 4, 5, 6], Seeded(2, unchecked(2UL + (ulong)i * 0x9E3779B97F4A7C15UL)), Models.ContextHash()), outputs[i].TokenIds);
        h.AssertQuiescent();
    }
}
