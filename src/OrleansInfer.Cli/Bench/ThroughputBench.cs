using OrleansInfer.Engine.Baselines;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Bench;

/// <summary>A fixed synthetic workload: prompt and output lengths uniform in their ranges, prompt ids uniform, all from one seed.</summary>
public sealed record ThroughputWorkload(int Requests, (int Min, int Max) InputLength, (int Min, int Max) OutputLength, int Seed)
{
    public IReadOnlyList<WorkloadRequest> Build(int vocab)
    {
        var rng = new Random(Seed);
        var list = new List<WorkloadRequest>(Requests);
        for (var i = 0; i < Requests; i++)
        {
            var input = rng.Next(InputLength.Min, InputLength.Max + 1);
            var output = rng.Next(OutputLength.Min, OutputLength.Max + 1);
            list.Add(new WorkloadRequest(Enumerable.Range(0, input).Select(_ => rng.Next(3, vocab)).ToArray(), output));
        }
        return list;
    }
}

/// <summary>
/// `bench throughput`: the workload through the continuous-batching engine (every request submitted at once,
/// greedy, exactly its output length), or through the static-batching baseline on the same runner. A short
/// warm-up run comes first so the tiered JIT has settled.
/// </summary>
public static class ThroughputBench
{
    public static ThroughputStats Run(IModelRunner runner, Tokenizer tokenizer, EngineOptions options, IReadOnlyList<WorkloadRequest> workload, bool continuous)
    {
        var warmup = workload.Take(Math.Min(4, workload.Count)).Select(w => w with { Prompt = w.Prompt[..Math.Min(w.Prompt.Length, 32)], OutputTokens = Math.Min(w.OutputTokens, 8) }).ToList();
        if (continuous)
        {
            RunContinuous(runner, tokenizer, options, warmup);
            return RunContinuous(runner, tokenizer, options, workload);
        }
        var limits = options.Scheduler;
        var baseline = new StaticBatchingBaseline(runner, limits.MaxNumSeqs ?? runner.MaxBatchSequences, limits.MaxNumBatchedTokens ?? runner.MaxBatchTokens, tokenizer.BosId >= 0 ? tokenizer.BosId : 0);
        baseline.Run(warmup);
        return baseline.Run(workload);
    }

    private static ThroughputStats RunContinuous(IModelRunner runner, Tokenizer tokenizer, EngineOptions options, IReadOnlyList<WorkloadRequest> workload)
    {
        using var engine = new LlmEngine(runner, tokenizer, options);
        double utilization = 0, sequences = 0;
        long steps = 0;
        engine.StepCompleted += s =>
        {
            if (s.AllocatedSlots > 0) utilization += (double)s.TokensInKv / s.AllocatedSlots;
            sequences += s.ScheduledSequences;
            steps++;
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var streams = workload.Select(w => engine.Submit(new GenerationRequest(w.Prompt, new SamplingParams { Temperature = 0, MaxTokens = w.OutputTokens, IgnoreEos = true }))).ToList();
        var results = Task.WhenAll(streams.Select(s => s.CollectAsync())).GetAwaiter().GetResult();
        var elapsed = clock.Elapsed.TotalSeconds;
        var stepsSeen = Math.Max(1, steps);
        return new ThroughputStats(workload.Count, elapsed, workload.Sum(w => (long)w.Prompt.Length), results.Sum(r => (long)r.Usage.CompletionTokens),
            utilization / stepsSeen, steps, engine.TotalPreemptions, sequences / stepsSeen);
    }
}
