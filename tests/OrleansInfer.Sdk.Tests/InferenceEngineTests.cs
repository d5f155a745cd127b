using OrleansInfer.Engine;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary>The embedded SDK on stories260K: the three-line API, batch invariance under pressure, prefix caching, errors.</summary>
public sealed class InferenceEngineTests
{
    private static readonly SamplingParams Greedy = new() { Temperature = 0, MaxTokens = 64 };

    private static Task<InferenceEngine> Load(InferenceEngineOptions? options = null) =>
        InferenceEngine.LoadAsync(SharedData.Stories260KGguf, (options ?? new InferenceEngineOptions()) with { Threads = 2 });

    /// <summary>After any test the pool is whole again: every block free (cached ones count as free).</summary>
    private static async Task AssertAllBlocksFree(InferenceEngine engine)
    {
        // The engine publishes its KV state after the step that freed the last blocks; wait for it (bounded).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.KvCache.FreeBlocks != engine.KvCache.TotalBlocks && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.True(engine.KvCache.FreeBlocks == engine.KvCache.TotalBlocks, $"expected all {engine.KvCache.TotalBlocks} KV blocks free, {engine.KvCache.FreeBlocks} are");
    }

    [Fact]
    public async Task ThreeLinesStreamTheReferenceText()
    {
        var reference = SharedData.Reference.Cases[0];
        await using var engine = await Load();
        var text = "";
        await foreach (var chunk in engine.GenerateAsync(reference.Prompt, Greedy)) text += chunk.Text;
        Assert.Equal(reference.Text, reference.Prompt + text);
        await AssertAllBlocksFree(engine);
    }

    public static TheoryData<string, InferenceEngineOptions> Pressures() => new()
    {
        { "roomy", new InferenceEngineOptions() },
        { "preemption (6 blocks of 16)", new InferenceEngineOptions { KvBlocks = 6 } },
        { "chunked prefill (8-token budget)", new InferenceEngineOptions { MaxNumBatchedTokens = 8 } },
        { "both, block size 4", new InferenceEngineOptions { KvBlocks = 24, BlockSize = 4, MaxNumBatchedTokens = 5 } },
        { "no prefix caching, 2 sequences per step", new InferenceEngineOptions { EnablePrefixCaching = false, MaxNumSeqs = 2 } },
    };

    [Theory]
    [MemberData(nameof(Pressures))]
    public async Task FourPromptsTogetherGiveExactlyWhatEachGivesAlone(string name, InferenceEngineOptions options)
    {
        Assert.NotNull(name);
        IReadOnlyList<int[]> alone;
        await using (var solo = await Load())
        {
            var list = new List<int[]>();
            foreach (var p in Prompts.Four) list.Add((await solo.CompleteAsync(p, Greedy)).Output.TokenIds);
            alone = list;
        }
        Assert.Equal(SharedData.Reference.Cases[0].GeneratedTokenIds, alone[0]);
        Assert.Equal(SharedData.Reference.Cases[1].GeneratedTokenIds, alone[1]);

        await using var engine = await Load(options);
        var together = await engine.GenerateBatchAsync(Prompts.Four, Greedy);
        for (var i = 0; i < 4; i++) Assert.Equal(alone[i], together[i].Output.TokenIds);
        if (options.KvBlocks == 6) Assert.True(engine.Engine.TotalPreemptions > 0, "a 6-block pool must force preemption");
        await AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task ASharedHundredTokenPrefixIsServedFromTheCache()
    {
        await using var engine = await Load();
        var prefix = engine.Tokenize("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high. Lily's mom said");
        Assert.True(prefix.Length >= 60);
        var prompt = prefix.Concat(prefix).Take(100).ToArray();
        var first = await engine.Engine.GenerateAsync(new GenerationRequest(prompt, Greedy with { MaxTokens = 20 }));
        // The result arrives before the engine publishes the step that freed its blocks; idle waits for that snapshot.
        Assert.True(await engine.Engine.WhenIdleAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token), "expected the engine to become idle");
        var hitsBefore = engine.KvCache.CachedBlocks;
        var second = await engine.Engine.GenerateAsync(new GenerationRequest(prompt, Greedy with { MaxTokens = 20 }));

        Assert.Equal(0, first.Usage.CachedPromptTokens);
        Assert.Equal(96, second.Usage.CachedPromptTokens); // 6 full blocks of 16; the 100th token is recomputed
        Assert.True(hitsBefore >= 6, $"the first request should leave at least 6 cached blocks, found {hitsBefore}");
        Assert.Equal(first.Output.TokenIds, second.Output.TokenIds);
        await AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task ParallelSamplesAndBeamsComeBackInOneResult()
    {
        await using var engine = await Load();
        var sampled = await engine.CompleteAsync("Once upon a time", new SamplingParams { Temperature = 1, N = 3, MaxTokens = 12, Seed = 9 });
        Assert.Equal([0, 1, 2], sampled.Outputs.Select(o => o.Index));
        foreach (var o in sampled.Outputs)
        {
            if (o.FinishReason == FinishReason.Length) Assert.Equal(12, o.TokenIds.Length);
            else Assert.Equal(engine.Tokenizer.EosId, o.TokenIds[^1]);
        }
        Assert.Equal(sampled.Outputs.Sum(o => o.TokenIds.Length), sampled.Usage.CompletionTokens);
        var again = await engine.CompleteAsync("Once upon a time", new SamplingParams { Temperature = 1, N = 3, MaxTokens = 12, Seed = 9 });
        Assert.Equal(sampled.Outputs.Select(o => o.TokenIds), again.Outputs.Select(o => o.TokenIds));

        var beams = await engine.CompleteAsync("Once upon a time", new SamplingParams { Temperature = 0, BeamWidth = 4, N = 2, MaxTokens = 16, Logprobs = 1 });
        Assert.Equal(2, beams.Outputs.Count);
        Assert.NotEqual(beams.Outputs[0].TokenIds, beams.Outputs[1].TokenIds);
        // Best first, by log-probability per token (length penalty 1).
        static double Score(GenerationOutput o) => o.Logprobs!.Sum(l => l.Logprob) / o.TokenIds.Length;
        Assert.True(Score(beams.Outputs[0]) >= Score(beams.Outputs[1]) - 1e-6, $"{Score(beams.Outputs[0])} < {Score(beams.Outputs[1])}");
        await AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task CancellingAStreamFreesItsBlocks()
    {
        await using var engine = await Load();
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync("Once upon a time", Greedy with { MaxTokens = 100, IgnoreEos = true }, cts.Token))
            {
                if (++seen == 5) cts.Cancel();
            }
        });
        Assert.Equal(5, seen);
        await AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task BadRequestsAreRejectedNamingTheField()
    {
        await using var engine = await Load();
        Assert.Equal("temperature", Assert.Throws<InvalidRequestException>(() => engine.GenerateAsync("x", new SamplingParams { Temperature = float.NaN })).Field);
        Assert.Equal("beam_width", Assert.Throws<InvalidRequestException>(() => engine.GenerateAsync("x", new SamplingParams { Temperature = 0.7f, BeamWidth = 2 })).Field);
        Assert.Equal("stop_token_ids", Assert.Throws<InvalidRequestException>(() => engine.GenerateAsync("x", new SamplingParams { StopTokenIds = [512] })).Field);
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => engine.GenerateAsync(string.Concat(Enumerable.Repeat("Once upon a time ", 40)))).Field);
        await AssertAllBlocksFree(engine);
    }

    [Fact]
    public async Task AFullQueueRejectsAtOnce()
    {
        await using var engine = await Load(new InferenceEngineOptions { MaxWaitingRequests = 2, MaxNumSeqs = 1 });
        var running = new List<Engine.Core.RequestStream>();
        RequestRejectedException? rejected = null;
        for (var i = 0; i < 50 && rejected is null; i++)
        {
            try
            {
                running.Add(engine.Engine.Submit(new GenerationRequest(engine.Tokenize("Once upon a time"), Greedy with { MaxTokens = 100, IgnoreEos = true })));
            }
            catch (RequestRejectedException e)
            {
                rejected = e;
            }
        }
        Assert.NotNull(rejected);
        Assert.Equal(RejectionReason.QueueFull, rejected.Reason);
        foreach (var s in running) s.Cancel();
        await AssertAllBlocksFree(engine);
    }
}
