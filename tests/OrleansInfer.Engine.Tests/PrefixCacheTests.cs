using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Prefix caching through the engine: hits, what is recomputed, and that outputs do not change.</summary>
public sealed class PrefixCacheTests
{
    private static readonly int[] Prefix = Enumerable.Range(0, 100).Select(i => (i * 7 + 3) % 8).ToArray();

    private static SamplingParams Sampling => new() { Temperature = 1, MaxTokens = 8, Seed = 4, IgnoreEos = true };

    private static EngineHarness NewHarness(bool prefixCaching = true)
    {
        var h = new EngineHarness(new ScriptedRunner(blocks: 64, context: 256, maxBatchTokens: 256), new SchedulerOptions { EnablePrefixCaching = prefixCaching });
        h.Runner.Model = Models.ContextHash();
        return h;
    }

    /// <summary>What the request produces on an engine without prefix caching.</summary>
    private static int[] Uncached(int[] prompt)
    {
        var h = NewHarness(prefixCaching: false);
        var r = h.Add(prompt, Sampling);
        h.Run();
        var tokens = EngineHarness.Result(r).Output.TokenIds;
        h.AssertQuiescent();
        return tokens;
    }

    [Fact]
    public void ASecondRequestSharingA100TokenPrefixReusesTheCachedBlocks()
    {
        var h = NewHarness();
        int[] firstPrompt = [.. Prefix, 5], secondPrompt = [.. Prefix, 6];
        var first = h.Add(firstPrompt, Sampling);
        h.Run();
        var firstBlocks = h.Runner.Steps[0].Updates.Single().Blocks;
        Assert.Equal(26, firstBlocks.Length);
        Assert.Equal(0, h.Core.Blocks.PrefixHitTokens);
        Assert.Equal(27, h.Core.Blocks.CachedBlocks); // 108 of its 109 tokens were computed: 27 full blocks

        var second = h.Add(secondPrompt, Sampling);
        h.Step();
        // Only the token after the shared 100 is computed, into the cached blocks of the first request.
        var step = h.Runner.Steps[^1].Sequences.Single();
        Assert.Equal((100, 1, true), (step.StartPosition, step.TokenCount, step.ComputeLogits));
        Assert.Equal(firstBlocks[..25], h.Runner.Steps[^1].Updates.Single().Blocks[..25]);
        Assert.Equal(100, h.Core.Blocks.PrefixHitTokens);
        h.Run();

        var r1 = EngineHarness.Result(first);
        var r2 = EngineHarness.Result(second);
        Assert.Equal(0, r1.Usage.CachedPromptTokens);
        Assert.Equal(new Outputs.UsageInfo(101, 8, 100), r2.Usage);
        Assert.Equal(Uncached(firstPrompt), r1.Output.TokenIds);
        Assert.Equal(Uncached(secondPrompt), r2.Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void TheLastPromptTokenIsAlwaysRecomputed()
    {
        var h = NewHarness();
        var first = h.Add(Prefix, Sampling); // 100 tokens: exactly 25 blocks
        h.Run();
        var second = h.Add(Prefix, Sampling);
        h.Step();
        var step = h.Runner.Steps[^1].Sequences.Single();
        Assert.Equal((96, 4, true), (step.StartPosition, step.TokenCount, step.ComputeLogits)); // the last block again
        Assert.Equal(96, h.Core.Blocks.PrefixHitTokens);
        h.Run();
        var r2 = EngineHarness.Result(second);
        Assert.Equal(96, r2.Usage.CachedPromptTokens);
        Assert.Equal(EngineHarness.Result(first).Output.TokenIds, r2.Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void ARunningRequestsBlocksAreSharedByReference()
    {
        var h = NewHarness();
        int[] firstPrompt = [.. Prefix, 5], secondPrompt = [.. Prefix, 6];
        var first = h.Add(firstPrompt, Sampling);
        h.Step();
        var second = h.Add(secondPrompt, Sampling);
        h.Step();
        var a = first.Live[0].Blocks.Ids;
        var b = second.Live[0].Blocks.Ids;
        Assert.Equal(a.Take(25), b.Take(25));
        Assert.All(a.Take(25), id => Assert.Equal(2, h.Core.Blocks.ReferenceCount(id)));
        Assert.NotEqual(a[25], b[25]);
        h.Run();
        var r2 = EngineHarness.Result(second);
        Assert.Equal(100, r2.Usage.CachedPromptTokens);
        Assert.Equal(Uncached(firstPrompt), EngineHarness.Result(first).Output.TokenIds);
        Assert.Equal(Uncached(secondPrompt), r2.Output.TokenIds);
        h.AssertQuiescent();
    }

    [Fact]
    public void ARecomputeAfterPreemptionIsNotReportedAsCachedPromptTokens()
    {
        // 7 blocks of 4, 4 tokens a step. b decodes; a's 20-token prompt is prefilled beside it, 3 tokens a step,
        // until step 7, when a (the newest) gives way mid-prefill and comes back to find its own first blocks cached.
        var h = new EngineHarness(new ScriptedRunner(blocks: 7, blockSize: 4), new SchedulerOptions { MaxNumBatchedTokens = 4 });
        h.Runner.Model = Models.ContextHash();
        var b = h.Add([1, 2, 3, 4], Sampling with { MaxTokens = 20 });
        h.Step();
        var a = h.Add(Enumerable.Range(0, 20).Select(i => (i * 5 + 1) % 8).ToArray(), Sampling with { MaxTokens = 1 });
        h.Run();
        Assert.True(h.Scheduler.TotalPreemptions > 0, "a gives way mid-prefill");
        Assert.True(h.Core.Blocks.PrefixHitTokens > 0, "a's recompute reuses its own blocks");
        var ra = EngineHarness.Result(a);
        Assert.Equal(0, ra.Usage.CachedPromptTokens); // nothing was cached when it was first admitted
        Assert.Equal(Uncached(a.Prompt).Take(1), ra.Output.TokenIds);
        Assert.Equal(0, EngineHarness.Result(b).Usage.CachedPromptTokens);
        h.AssertQuiescent();
    }
}
