using System.Diagnostics;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Baselines;

/// <summary>One request of a fixed benchmark workload: a prompt and exactly how many tokens to generate.</summary>
public sealed record WorkloadRequest(int[] Prompt, int OutputTokens);

/// <summary>What a throughput run measured.</summary>
public sealed record ThroughputStats(int Requests, double ElapsedSeconds, long PromptTokens, long OutputTokens, double KvUtilization, long Steps, long Preemptions, double MeanBatchSequences)
{
    public double OutputTokensPerSecond => OutputTokens / ElapsedSeconds;

    public double TotalTokensPerSecond => (PromptTokens + OutputTokens) / ElapsedSeconds;
}

/// <summary>
/// The static-batching baseline (Hugging Face generate style) on the same runner the engine uses: requests go in
/// fixed batches; every prompt is padded to the batch's longest; every sequence reserves KV for the longest
/// prompt plus the largest max_tokens up front; every sequence keeps decoding until the batch's longest output
/// is done; the next batch starts only then. Greedy, end-of-sequence ignored, as the engine's runs.
/// </summary>
public sealed class StaticBatchingBaseline(IModelRunner runner, int maxBatchSequences, int maxBatchTokens, int padToken)
{
    public ThroughputStats Run(IReadOnlyList<WorkloadRequest> workload)
    {
        var vocab = runner.Config.VocabSize;
        var blockSize = runner.KvCache.BlockSize;
        var blocks = new BlockManager(runner.KvCache.BlockCount, blockSize, enablePrefixCaching: false);
        var maxSeqs = Math.Min(maxBatchSequences, runner.MaxBatchSequences);
        var tokenBudget = Math.Min(maxBatchTokens, runner.MaxBatchTokens);
        var logits = new float[maxSeqs * vocab];
        var batch = new ForwardBatch();
        double utilizationSum = 0, sequenceSum = 0;
        long steps = 0, promptTokens = 0, outputTokens = 0, nextId = 1L << 40;
        var clock = Stopwatch.StartNew();

        for (var start = 0; start < workload.Count;)
        {
            // As many requests as the sequence cap and the up-front KV reservation allow.
            int count = 0, longestPrompt = 0, longestOutput = 0;
            while (start + count < workload.Count && count < maxSeqs)
            {
                var r = workload[start + count];
                int p = Math.Max(longestPrompt, r.Prompt.Length), o = Math.Max(longestOutput, r.OutputTokens);
                if (p + o > runner.Config.ContextLength) throw new InvalidRequestException("max_tokens", $"{p} + {o} tokens exceed the context of {runner.Config.ContextLength}");
                if ((count + 1L) * blocks.BlocksFor(p + o) > blocks.BlockCount)
                {
                    if (count == 0) throw new InvalidRequestException("max_tokens", "one request does not fit the KV cache");
                    break;
                }
                (longestPrompt, longestOutput) = (p, o);
                count++;
            }

            var members = Enumerable.Range(start, count).Select(i => workload[i]).ToArray();
            var ids = Enumerable.Range(0, count).Select(_ => nextId++).ToArray();
            var tables = new SequenceBlocks[count];
            var padded = new int[count][];
            batch.Clear();
            for (var i = 0; i < count; i++)
            {
                tables[i] = new SequenceBlocks();
                blocks.TryAllocate(tables[i], longestPrompt + longestOutput);
                batch.UpdateBlocks(ids[i], 0, tables[i].Ids.ToArray());
                padded[i] = [.. Enumerable.Repeat(padToken, longestPrompt - members[i].Prompt.Length), .. members[i].Prompt];
                promptTokens += members[i].Prompt.Length;
                outputTokens += members[i].OutputTokens;
            }
            var reserved = (double)count * tables[0].Count * blockSize;
            var next = new int[count];

            // Prefill every padded prompt, in passes of at most the token budget.
            var done = new int[count];
            while (done[^1] < longestPrompt)
            {
                var budget = tokenBudget;
                var rows = new List<int>();
                for (var i = 0; i < count && budget > 0; i++)
                {
                    var n = Math.Min(budget, longestPrompt - done[i]);
                    if (n == 0) continue;
                    var last = done[i] + n == longestPrompt;
                    batch.AddSequence(ids[i], done[i], padded[i].AsSpan(done[i], n), last);
                    if (last) rows.Add(i);
                    done[i] += n;
                    budget -= n;
                }
                runner.Execute(batch, logits);
                for (var k = 0; k < rows.Count; k++) next[rows[k]] = Sampler.Greedy(logits.AsSpan(k * vocab, vocab));
                batch.Clear();
                Account(generated: 0);
            }

            // Decode until the longest output is done; finished sequences keep computing (the padding of static batching).
            for (var step = 1; step < longestOutput; step++)
            {
                for (var i = 0; i < count; i++) batch.AddSequence(ids[i], longestPrompt + step - 1, [next[i]], true);
                runner.Execute(batch, logits);
                for (var i = 0; i < count; i++) next[i] = Sampler.Greedy(logits.AsSpan(i * vocab, vocab));
                batch.Clear();
                Account(generated: step);
            }

            for (var i = 0; i < count; i++)
            {
                blocks.Free(tables[i]);
                batch.Release(ids[i]);
            }
            runner.Execute(batch, logits);
            batch.Clear();
            start += count;

            void Account(int generated)
            {
                // Tokens that matter (real prompt tokens and wanted outputs) held in the KV slots reserved for them.
                double useful = 0;
                for (var i = 0; i < count; i++)
                {
                    var realPromptHeld = Math.Max(0, done[i] - (longestPrompt - members[i].Prompt.Length));
                    useful += realPromptHeld + Math.Min(generated, members[i].OutputTokens);
                }
                utilizationSum += useful / reserved;
                sequenceSum += count;
                steps++;
            }
        }

        return new ThroughputStats(workload.Count, clock.Elapsed.TotalSeconds, promptTokens, outputTokens,
            steps == 0 ? 0 : utilizationSum / steps, steps, 0, steps == 0 ? 0 : sequenceSum / steps);
    }
}
