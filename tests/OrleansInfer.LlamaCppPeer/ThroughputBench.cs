using System.Diagnostics;
using LLama.Native;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// llama.cpp's batched decoding on the workload `orleans-infer bench throughput` runs (the same
/// <see cref="OrleansInfer.Cli.Bench.ThroughputWorkload"/>, so the same prompts and lengths for a seed), scheduled
/// as our engine schedules it: at most MaxSequences requests hold a sequence id at once; every step is one
/// llama_decode of at most MaxBatchTokens tokens in which the running sequences come first (one token each when
/// decoding, the next chunk when still prefilling) and waiting requests are admitted, in order, into free sequence
/// ids with what budget is left. Greedy, exactly each request's output length (end of sequence ignored); the
/// first token comes from the last prompt position. A finished sequence's KV cells are removed and its id reused.
/// A short warm-up run (the first four requests, cut to 32 prompt and 8 output tokens) comes first, as ours.
/// </summary>
public static class PeerThroughputBench
{
    public static ThroughputStats Run(LlamaCppSession session, IReadOnlyList<WorkloadRequest> workload, int maxSequences, int maxBatchTokens)
    {
        var warmup = workload.Take(Math.Min(4, workload.Count)).Select(w => w with { Prompt = w.Prompt[..Math.Min(w.Prompt.Length, 32)], OutputTokens = Math.Min(w.OutputTokens, 8) }).ToList();
        RunOnce(session, warmup, maxSequences, maxBatchTokens, null);
        return RunOnce(session, workload, maxSequences, maxBatchTokens, null);
    }

    /// <summary>One run without warm-up that also returns each request's generated tokens (for tests).</summary>
    public static (ThroughputStats Stats, int[][] Tokens) Generate(LlamaCppSession session, IReadOnlyList<WorkloadRequest> workload, int maxSequences, int maxBatchTokens)
    {
        var tokens = workload.Select(_ => new List<int>()).ToArray();
        var stats = RunOnce(session, workload, maxSequences, maxBatchTokens, tokens);
        return (stats, tokens.Select(t => t.ToArray()).ToArray());
    }

    private sealed class Slot(int seqId, int index, WorkloadRequest request)
    {
        public int SeqId { get; } = seqId;

        /// <summary>The request's place in the workload.</summary>
        public int Index { get; } = index;

        public WorkloadRequest Request { get; } = request;

        /// <summary>Prompt tokens already in the KV cache.</summary>
        public int Prefilled { get; set; }

        public int Generated { get; set; }

        /// <summary>The token to decode next (the last one generated).</summary>
        public int Next { get; set; }

        /// <summary>Tokens in this sequence's KV cells.</summary>
        public int Position => Prefilled + Math.Max(0, Generated - 1);
    }

    private static ThroughputStats RunOnce(LlamaCppSession session, IReadOnlyList<WorkloadRequest> workload, int maxSequences, int maxBatchTokens, List<int>[]? tokens)
    {
        session.ClearKvCache();
        var batch = new LLamaBatch();
        var running = new List<Slot>();
        var freeIds = new Stack<int>(Enumerable.Range(0, maxSequences).Reverse());
        var logitRows = new List<(Slot Slot, int Row)>();
        int waiting = 0, finished = 0;
        long steps = 0, outputTokens = 0;
        double utilization = 0, sequences = 0;

        var clock = Stopwatch.StartNew();
        while (finished < workload.Count)
        {
            batch.Clear();
            logitRows.Clear();
            var budget = maxBatchTokens;
            var scheduled = 0;
            foreach (var slot in running)
            {
                if (budget == 0) break;
                budget -= Schedule(batch, slot, budget, logitRows);
                scheduled++;
            }
            while (budget > 0 && waiting < workload.Count && freeIds.Count > 0)
            {
                var slot = new Slot(freeIds.Pop(), waiting, workload[waiting]);
                waiting++;
                running.Add(slot);
                budget -= Schedule(batch, slot, budget, logitRows);
                scheduled++;
            }

            session.Decode(batch);
            steps++;
            sequences += scheduled;
            utilization += (double)running.Sum(s => s.Position) / session.ContextSize;

            foreach (var (slot, row) in logitRows)
            {
                slot.Next = LlamaCppSession.Argmax(session.Handle.GetLogitsIth(row));
                slot.Generated++;
                outputTokens++;
                tokens?[slot.Index].Add(slot.Next);
                if (slot.Generated < slot.Request.OutputTokens) continue;
                session.Handle.MemorySequenceRemove((LLamaSeqId)slot.SeqId, -1, -1);
                freeIds.Push(slot.SeqId);
                running.Remove(slot);
                finished++;
            }
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        session.ClearKvCache();
        return new ThroughputStats(workload.Count, elapsed, workload.Sum(w => (long)w.Prompt.Length), outputTokens,
            utilization / Math.Max(1, steps), steps, Preemptions: 0, sequences / Math.Max(1, steps));
    }

    /// <summary>Adds the slot's tokens for this step within the budget; returns how many it took.</summary>
    private static int Schedule(LLamaBatch batch, Slot slot, int budget, List<(Slot, int)> logitRows)
    {
        var prompt = slot.Request.Prompt;
        if (slot.Prefilled == prompt.Length)
        {
            logitRows.Add((slot, batch.Add(slot.Next, slot.Position, (LLamaSeqId)slot.SeqId, true)));
            return 1;
        }
        var n = Math.Min(budget, prompt.Length - slot.Prefilled);
        // LLamaToken is a plain int wrapper: the prompt's ids are passed without a copy.
        var chunk = System.Runtime.InteropServices.MemoryMarshal.Cast<int, LLamaToken>(prompt.AsSpan(slot.Prefilled, n));
        var last = slot.Prefilled + n == prompt.Length;
        var row = batch.AddRange(chunk, slot.Prefilled, (LLamaSeqId)slot.SeqId, last);
        slot.Prefilled += n;
        if (last) logitRows.Add((slot, row));
        return n;
    }
}
