using System.Runtime.InteropServices;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// Drives an <see cref="EngineCore"/> step by step on the engine-test thread (no engine thread, no timing) over a
/// <see cref="ScriptedRunner"/> whose oracle is the core's own view of its sequences.
/// </summary>
internal sealed class EngineHarness
{
    private long _nextRequestId;

    public EngineHarness(ScriptedRunner runner, SchedulerOptions? scheduler = null, Tokenizer? tokenizer = null, ulong? defaultSeed = 1)
    {
        Runner = runner;
        Tokenizer = tokenizer ?? TestTokenizer.Create(runner.Config.VocabSize);
        Core = new EngineCore(runner, Tokenizer, new EngineOptions { Scheduler = scheduler ?? new SchedulerOptions(), DefaultSeed = defaultSeed }, Log);
        runner.Oracle = Find;
    }

    public ScriptedRunner Runner { get; }

    public Tokenizer Tokenizer { get; }

    public EngineCore Core { get; }

    public Scheduler Scheduler => Core.Scheduler;

    public List<EngineStepStats> Stats { get; } = [];

    /// <summary>What the core logged.</summary>
    public RecordingLogger Log { get; } = new();

    /// <summary>Creates and queues a request (its sampling parameters validated as the engine's Submit does).</summary>
    public RequestState Add(int[] prompt, SamplingParams sampling, int priority = 0) =>
        Add(new GenerationRequest(prompt, sampling) { Priority = priority });

    /// <summary>Creates and queues a request after the checks the engine's Submit makes.</summary>
    public RequestState Add(GenerationRequest request)
    {
        var c = Runner.Config;
        request.Sampling.Validate(c.VocabSize);
        ResumedValidation.Validate(request, c.VocabSize, c.ContextLength);
        var id = ++_nextRequestId;
        var r = Core.CreateRequest(id, request, arrival: id);
        Core.Enqueue(r);
        return r;
    }

    /// <summary>One step; fails the test when there was work but nothing could run.</summary>
    public EngineStepStats Step()
    {
        var hadWork = Core.HasWork;
        var stats = Core.Step();
        Assert.True(stats is not null, hadWork ? $"the engine stalled: {Describe()}" : "Step() called with no work in the engine");
        Stats.Add(stats);
        return stats;
    }

    /// <summary>Steps until the engine has no work left (finished requests' releases included).</summary>
    public void Run(int maxSteps = 10_000)
    {
        for (var i = 0; Core.HasWork; i++)
        {
            Assert.True(i < maxSteps, $"no end after {maxSteps} steps: {Describe()}");
            Step();
        }
    }

    /// <summary>Steps until <paramref name="r"/> finished (its channel is complete).</summary>
    public void RunUntilDone(RequestState r, int maxSteps = 10_000)
    {
        for (var i = 0; !r.IsFinished && !r.Aborted; i++)
        {
            Assert.True(i < maxSteps, $"request {r.Id} did not finish in {maxSteps} steps: {Describe()}");
            Step();
        }
    }

    /// <summary>The engine's view of a live sequence (for the runner's cross-checks).</summary>
    public (IReadOnlyList<int> Tokens, IReadOnlyList<int> Blocks)? Find(long sequenceId)
    {
        foreach (var r in Scheduler.Running.Concat(Scheduler.Waiting))
        {
            foreach (var s in r.Live)
            {
                if (s.Id == sequenceId) return (s.Tokens, s.Blocks.Ids);
            }
        }
        return null;
    }

    /// <summary>Chunks written so far and not yet read.</summary>
    public static List<GenerationChunk> Drain(RequestState r)
    {
        var list = new List<GenerationChunk>();
        while (r.Output.Reader.TryRead(out var c)) list.Add(c);
        return list;
    }

    /// <summary>All of a finished request's chunks, asserting the stream ended without error.</summary>
    public static List<GenerationChunk> Chunks(RequestState r)
    {
        var list = Drain(r);
        var completion = r.Output.Reader.Completion;
        Assert.True(completion.IsCompleted, $"request {r.Id}'s stream is still open");
        Assert.True(completion.IsCompletedSuccessfully, $"request {r.Id}'s stream failed: {completion.Exception?.InnerException}");
        return list;
    }

    /// <summary>A finished request's outputs assembled from its chunks, as <see cref="RequestStream.CollectAsync"/> does.</summary>
    public static GenerationResult Result(RequestState r) => Assemble(r.Prompt, Chunks(r));

    public static GenerationResult Assemble(int[] prompt, IReadOnlyList<GenerationChunk> chunks)
    {
        var outputs = new SortedDictionary<int, (List<int> Tokens, System.Text.StringBuilder Text, List<TokenLogprobs>? Logprobs, FinishReason? Finish)>();
        UsageInfo? usage = null;
        foreach (var c in chunks)
        {
            if (c.IsProgress) continue;
            if (!outputs.TryGetValue(c.Index, out var o)) o = ([], new(), null, null);
            Assert.True(o.Finish is null, $"output {c.Index} got a chunk after its final one");
            o.Tokens.AddRange(c.TokenIds);
            o.Text.Append(c.Text);
            if (c.Logprobs is not null) (o.Logprobs ??= []).AddRange(c.Logprobs);
            o.Finish = c.FinishReason;
            outputs[c.Index] = o;
            if (c.Usage is not null)
            {
                Assert.True(usage is null, "two chunks carry usage");
                usage = c.Usage;
            }
        }
        Assert.True(usage is not null, "no chunk carried the usage");
        Assert.True(ReferenceEquals(chunks.Last(c => !c.IsProgress).Usage, usage), "the usage must come with the very last chunk");
        var list = outputs.Select(kv =>
        {
            Assert.True(kv.Value.Finish is not null, $"output {kv.Key} never got a finish reason");
            return new GenerationOutput(kv.Key, [.. kv.Value.Tokens], kv.Value.Text.ToString(), kv.Value.Finish!.Value,
                kv.Value.Logprobs?.Sum(l => (double)l.Logprob) ?? 0, kv.Value.Logprobs);
        }).ToList();
        return new GenerationResult(prompt, list, usage);
    }

    /// <summary>The exception a request's stream ended with.</summary>
    public static Exception Failure(RequestState r)
    {
        Drain(r);
        var completion = r.Output.Reader.Completion;
        Assert.True(completion.IsFaulted || completion.IsCanceled, $"request {r.Id}'s stream did not end with an error");
        return completion.Exception?.InnerException ?? new OperationCanceledException();
    }

    /// <summary>
    /// The shared end-of-test check: nothing left in the engine, every block back in the free list with no references,
    /// and the runner holding no block table (the last releases are sent by stepping while there is work).
    /// </summary>
    public void AssertQuiescent()
    {
        Assert.True(Scheduler.Running.Count == 0 && Scheduler.Waiting.Count == 0, $"requests still in the engine: {Describe()}");
        Run();
        EngineAssert.Quiescent(Core.Blocks.FreeBlocks, Core.Blocks.BlockCount, Runner);
        for (var b = 0; b < Core.Blocks.BlockCount; b++) Assert.True(Core.Blocks.ReferenceCount(b) == 0, $"block {b} still has {Core.Blocks.ReferenceCount(b)} reference(s)");
    }

    public string Describe() =>
        $"running [{string.Join(", ", Scheduler.Running.Select(Describe))}], waiting [{string.Join(", ", Scheduler.Waiting.Select(Describe))}], " +
        $"free blocks {Core.Blocks.FreeBlocks}/{Core.Blocks.BlockCount}, runner tables {Runner.LiveSequences}";

    private static string Describe(RequestState r) =>
        $"#{r.Id}({string.Join("|", r.Live.Select(s => $"seq {s.Id}: {s.ComputedTokens}/{s.Tokens.Count} computed, {s.Blocks.Count} blocks"))})";

    /// <summary>The sequence ids a request's sequences ran under (live and done).</summary>
    public static long[] SequenceIds(RequestState r) => r.Live.Concat(r.Done).Select(s => s.Id).Order().ToArray();

    public static ReadOnlySpan<int> TokensOf(Sequence s) => CollectionsMarshal.AsSpan(s.Tokens);
}

/// <summary>Assertions shared by every engine test, whichever way it drives the engine.</summary>
public static class EngineAssert
{
    /// <summary>All KV blocks are free and the runner holds no block table.</summary>
    public static void Quiescent(int freeBlocks, int totalBlocks, ScriptedRunner runner)
    {
        Assert.True(freeBlocks == totalBlocks, $"{totalBlocks - freeBlocks} of {totalBlocks} KV blocks are still held");
        Assert.True(runner.LiveSequences == 0, $"the runner still holds block tables of sequences [{string.Join(", ", runner.LiveSequenceIds)}]");
    }

    /// <summary>For an engine that was disposed (its loop has stopped, so its last snapshot is final).</summary>
    public static void Quiescent(LlmEngine disposedEngine, ScriptedRunner runner) =>
        Quiescent(disposedEngine.KvCache.FreeBlocks, disposedEngine.KvCache.TotalBlocks, runner);
}
