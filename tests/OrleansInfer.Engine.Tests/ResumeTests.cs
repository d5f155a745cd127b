using System.Globalization;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// Resuming elsewhere: run a request fault-free, cut its delivered chunks at every point, rebuild
/// <see cref="GenerationRequest.Resumed"/> from what was delivered (as the cluster client does) and resume on a fresh
/// engine that batches differently (short prompt chunks, another request alongside). What the client ends up with must
/// be exactly the fault-free result: tokens, text, finish reasons, log-probabilities, usage and best_of selection.
/// </summary>
public sealed class ResumeTests
{
    private static readonly int[] Prompt = [1, 3, 4, 5, 6, 7];

    private static readonly Dictionary<string, SamplingParams> Streamed = new()
    {
        ["n = 3, seeded, logprobs, stop string"] = new() { Temperature = 1, Seed = 7, N = 3, MaxTokens = 7, Logprobs = 1, Stop = ["ec"] },
        ["n = 3, the engine's default seed"] = new() { Temperature = 0.8f, N = 3, MaxTokens = 6, TopK = 5 },
        ["n = 1, seeded, stop string"] = new() { Temperature = 1, Seed = 3, MaxTokens = 9, Stop = ["dd"] },
        ["n = 1, greedy"] = new() { Temperature = 0, MaxTokens = 8, Logprobs = 2 },
    };

    private static readonly Dictionary<string, SamplingParams> BestOf = new()
    {
        ["best_of 4, n 2, seeded, logprobs"] = new() { Temperature = 1, Seed = 5, N = 2, BestOf = 4, MaxTokens = 6, Logprobs = 0 },
        ["best_of 4, n 2, default seed, stop string"] = new() { Temperature = 1, N = 2, BestOf = 4, MaxTokens = 6, Stop = ["cc"] },
    };

    public static TheoryData<string> StreamedCases => [.. Streamed.Keys];

    public static TheoryData<string> BestOfCases => [.. BestOf.Keys];

    private static ScriptedRunner Runner() => new(blocks: 64) { Model = Models.ContextHash() };

    private static List<GenerationChunk> FaultFree(GenerationRequest request)
    {
        var h = new EngineHarness(Runner());
        var r = h.Add(request);
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        h.AssertQuiescent();
        return chunks;
    }

    /// <summary>The chunks a resumed run adds, on an engine with 4-token steps and another request alongside.</summary>
    private static List<GenerationChunk> Resume(GenerationRequest request, List<ResumedOutput> resumed)
    {
        var h = new EngineHarness(Runner(), new SchedulerOptions { MaxNumBatchedTokens = 4 });
        var r = h.Add(request with { Resumed = resumed });
        h.Add([5, 5, 5], new SamplingParams { Temperature = 1, Seed = 99, MaxTokens = 5 });
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        h.AssertQuiescent();
        return chunks;
    }

    [Theory]
    [MemberData(nameof(StreamedCases))]
    public void AStreamedRequestResumedAtAnyCutEndsExactlyAsAFaultFreeRun(string name)
    {
        var request = new GenerationRequest(Prompt, Streamed[name]);
        var all = FaultFree(request);
        var expected = Describe(EngineHarness.Assemble(Prompt, all));
        Assert.All(all, c => Assert.Equal(request.Sampling.IsGreedy, c.RngState is null));
        bool someFinished = false, someNotStarted = false;
        for (var cut = 0; cut < all.Count; cut++)
        {
            var delivered = all.Take(cut).ToList();
            var resumed = DeliveredRecord.Resumed(delivered, progress: false);
            someFinished |= resumed.Any(o => o.Finished is not null);
            someNotStarted |= resumed.Count > 0 && resumed.Count < request.Sampling.N;

            var rest = Resume(request, resumed);
            Assert.DoesNotContain(rest, c => c.IsProgress);
            // Nothing is sent again: finished outputs get no chunk.
            foreach (var o in resumed.Where(o => o.Finished is not null)) Assert.DoesNotContain(rest, c => c.Index == o.Index);
            Assert.Equal($"cut {cut}: {expected}", $"cut {cut}: {Describe(EngineHarness.Assemble(Prompt, [.. delivered, .. rest]))}");
        }
        if (request.Sampling.N > 1) Assert.True(someFinished && someNotStarted, "the cuts should include finished outputs and outputs never started");
    }

    [Theory]
    [MemberData(nameof(BestOfCases))]
    public void ABestOfRequestResumedFromItsProgressAtAnyCutChoosesExactlyAsAFaultFreeRun(string name)
    {
        var request = new GenerationRequest(Prompt, BestOf[name]) { ReportProgress = true };
        var all = FaultFree(request);
        var progress = all.Where(c => c.IsProgress).ToList();
        var results = all.Where(c => !c.IsProgress).ToList();
        Assert.Equal(2, results.Count);
        var expected = Describe(results);
        var candidates = Candidates(progress);
        Assert.Equal([0, 1, 2, 3], candidates.Keys);
        bool someFinished = false, someNotStarted = false;
        for (var cut = 0; cut < progress.Count; cut++)
        {
            var delivered = progress.Take(cut).ToList();
            var resumed = DeliveredRecord.Resumed(delivered, progress: true);
            someFinished |= resumed.Any(o => o.Finished is not null);
            someNotStarted |= resumed.Count is > 0 and < 4;

            var rest = Resume(request, resumed);
            Assert.Equal($"cut {cut}: {expected}", $"cut {cut}: {Describe(rest.Where(c => !c.IsProgress).ToList())}");
            // The progress record continues where it was cut.
            Assert.Equal(Describe(candidates), Describe(Candidates([.. delivered, .. rest.Where(c => c.IsProgress)])));
        }
        Assert.True(someFinished && someNotStarted, "the cuts should include finished candidates and candidates never started");
    }

    [Fact]
    public void AResumedRequestCountsResumedTokensInUsageAndSendsOnlyWhatIsNew()
    {
        var request = new GenerationRequest(Prompt, new SamplingParams { Temperature = 1, Seed = 3, MaxTokens = 9, IgnoreEos = true });
        var all = FaultFree(request);
        Assert.Equal(9, all.Count);
        var resumed = DeliveredRecord.Resumed(all.Take(3), progress: false);
        Assert.Equal(3, resumed.Single().Tokens.Length);
        var rest = Resume(request, resumed);
        Assert.Equal(all.Skip(3).Select(c => c.TokenIds.Single()), rest.Select(c => c.TokenIds.Single()));
        Assert.Equal(all[^1].Usage, rest[^1].Usage);
        Assert.Equal(new UsageInfo(Prompt.Length, all.Count, 0), rest[^1].Usage);
    }

    private static SortedDictionary<int, (List<int> Tokens, FinishReason? Finish, double Cumulative)> Candidates(IEnumerable<GenerationChunk> progress)
    {
        var result = new SortedDictionary<int, (List<int>, FinishReason?, double)>();
        foreach (var c in progress)
        {
            var (tokens, _, _) = result.TryGetValue(c.Index, out var o) ? o : ([], null, 0);
            tokens.AddRange(c.TokenIds);
            result[c.Index] = (tokens, c.FinishReason, c.CumulativeLogprob);
        }
        return result;
    }

    private static string Describe(SortedDictionary<int, (List<int> Tokens, FinishReason? Finish, double Cumulative)> candidates) =>
        string.Join(" | ", candidates.Select(kv => $"{kv.Key}: [{string.Join(",", kv.Value.Tokens)}] {kv.Value.Finish} {R(kv.Value.Cumulative)}"));

    private static string Describe(List<GenerationChunk> results) =>
        string.Join(" | ", results.Select(c => $"{c.Index}: [{string.Join(",", c.TokenIds)}] \"{c.Text}\" {c.FinishReason} {R(c.CumulativeLogprob)} {Describe(c.Logprobs)} {c.Usage}"));

    private static string Describe(GenerationResult r) =>
        string.Join(" | ", r.Outputs.Select(o => $"{o.Index}: [{string.Join(",", o.TokenIds)}] \"{o.Text}\" {o.FinishReason} {R(o.CumulativeLogprob)} {Describe(o.Logprobs)}")) + $" {r.Usage}";

    private static string Describe(IReadOnlyList<TokenLogprobs>? logprobs) =>
        logprobs is null ? "-" : string.Join(";", logprobs.Select(l => $"{l.TokenId}:{R(l.Logprob)}[{string.Join(",", l.Top.Select(t => $"{t.TokenId}:{R(t.Logprob)}"))}]"));

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
