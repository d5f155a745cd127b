using System.Diagnostics;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Engine.Baselines;
using OrleansInfer.Engine.Core;
using OrleansInfer.Silo;

namespace OrleansInfer.Cli.Bench;

/// <summary>
/// `bench throughput --cluster ...`: the same workload sent through a cluster's router and worker grains as an
/// Orleans client: a one-silo cluster started inside this process ("in-process"), or a running one.
/// </summary>
public static class ClusterThroughputBench
{
    /// <summary>
    /// Runs the workload through <paramref name="streams"/> after a short warm-up; <paramref name="engines"/> (the
    /// in-process silo's) gives KV utilization, which a remote cluster does not expose (NaN then).
    /// </summary>
    public static async Task<ThroughputStats> RunAsync(ClusterStreamClient streams, string modelId, IReadOnlyList<WorkloadRequest> workload, WorkerEngines? engines)
    {
        var warmup = workload.Take(Math.Min(4, workload.Count)).Select(w => w with { Prompt = w.Prompt[..Math.Min(w.Prompt.Length, 32)], OutputTokens = Math.Min(w.OutputTokens, 8) }).ToList();
        await Send(streams, modelId, warmup);

        double utilization = 0, sequences = 0;
        long steps = 0;
        void Observe(EngineStepStats s)
        {
            lock (warmup)
            {
                if (s.AllocatedSlots > 0) utilization += (double)s.TokensInKv / s.AllocatedSlots;
                sequences += s.ScheduledSequences;
                steps++;
            }
        }
        var observed = engines?.Devices.Select(engines.Get).ToList() ?? [];
        var preemptionsBefore = observed.Sum(e => e.TotalPreemptions);
        foreach (var e in observed) e.StepCompleted += Observe;
        try
        {
            var clock = Stopwatch.StartNew();
            var outputTokens = await Send(streams, modelId, workload);
            var elapsed = clock.Elapsed.TotalSeconds;
            var stepsSeen = Math.Max(1, steps);
            return new ThroughputStats(workload.Count, elapsed, workload.Sum(w => (long)w.Prompt.Length), outputTokens,
                engines is null ? double.NaN : utilization / stepsSeen, steps, observed.Sum(e => e.TotalPreemptions) - preemptionsBefore, engines is null ? double.NaN : sequences / stepsSeen);
        }
        finally
        {
            foreach (var e in observed) e.StepCompleted -= Observe;
        }
    }

    /// <summary>Every request at once, greedy, exactly its output length; returns the tokens received.</summary>
    private static async Task<long> Send(ClusterStreamClient streams, string modelId, IReadOnlyList<WorkloadRequest> workload)
    {
        var counts = await Task.WhenAll(workload.Select(async w =>
        {
            var request = new GenerateRequest
            {
                RequestId = Guid.NewGuid().ToString("N"),
                PromptTokens = w.Prompt,
                Sampling = new SamplingSpec { Temperature = 0, MaxTokens = w.OutputTokens, IgnoreEos = true },
            };
            long n = 0;
            await foreach (var chunk in streams.GenerateAsync(modelId, request)) n += chunk.TokenIds.Length;
            return n;
        }));
        return counts.Sum();
    }
}
