using System.Diagnostics;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Cli.Bench;

/// <summary>
/// Prefill and decode speed of a runner, as llama-bench measures them: each repeat prefills Batch random
/// prompts of InputLength tokens in as few forward passes as the runner takes, then decodes OutputLength
/// greedy tokens per sequence, one forward pass per step for the whole batch. Warm-up runs come first so the
/// tiered JIT has settled; medians are reported.
/// </summary>
internal static class LatencyBench
{
    public static LatencyResult Run(IModelRunner runner, LatencySettings s)
    {
        var vocab = runner.Config.VocabSize;
        var perSequence = s.InputLength + s.OutputLength;
        if (perSequence > runner.Config.ContextLength)
            throw new Infrastructure.CliException($"input + output length {perSequence} exceeds the model's context of {runner.Config.ContextLength}");
        if (s.Batch > runner.MaxBatchSequences)
            throw new Infrastructure.CliException($"batch {s.Batch} exceeds --max-num-seqs {runner.MaxBatchSequences}");
        var blocks = new BlockManager(runner.KvCache.BlockCount, runner.KvCache.BlockSize, enablePrefixCaching: false);
        if (blocks.FreeBlocks < s.Batch * blocks.BlocksFor(perSequence))
            throw new Infrastructure.CliException($"the KV cache ({runner.KvCache.BlockCount} blocks) cannot hold {s.Batch} sequences of {perSequence} tokens; raise --kv-blocks");

        var rng = new Random(s.Seed);
        var logits = new float[s.Batch * vocab];
        var batch = new ForwardBatch();
        var prefill = new List<double>();
        var decode = new List<double>();
        var ttft = new List<double>();
        var steps = new List<double>();
        var tables = Enumerable.Range(0, s.Batch).Select(_ => new SequenceBlocks()).ToArray();
        var next = new int[s.Batch];
        long sequenceBase = 0;

        for (var rep = 0; rep < s.Warmup + s.Repeats; rep++)
        {
            var measured = rep >= s.Warmup;
            batch.Clear();
            for (var b = 0; b < s.Batch; b++)
            {
                blocks.TryAllocate(tables[b], perSequence);
                batch.UpdateBlocks(sequenceBase + b, 0, tables[b].Ids.ToArray());
            }

            // Prefill: whole prompts, packed into passes of at most MaxBatchTokens tokens.
            var clock = Stopwatch.StartNew();
            var prompts = Enumerable.Range(0, s.Batch).Select(_ => Enumerable.Range(0, s.InputLength).Select(_ => rng.Next(3, vocab)).ToArray()).ToArray();
            var done = new int[s.Batch];
            while (done.Any(d => d < s.InputLength))
            {
                var budget = runner.MaxBatchTokens;
                var rows = new List<int>();
                for (var b = 0; b < s.Batch && budget > 0; b++)
                {
                    var n = Math.Min(budget, s.InputLength - done[b]);
                    if (n == 0) continue;
                    var last = done[b] + n == s.InputLength;
                    batch.AddSequence(sequenceBase + b, done[b], prompts[b].AsSpan(done[b], n), last);
                    if (last) rows.Add(b);
                    done[b] += n;
                    budget -= n;
                }
                runner.Execute(batch, logits);
                for (var i = 0; i < rows.Count; i++) next[rows[i]] = Sampler.Greedy(logits.AsSpan(i * vocab, vocab));
                batch.Clear();
            }
            var prefillSeconds = clock.Elapsed.TotalSeconds;

            // Decode: one token per sequence per pass.
            var decodeClock = Stopwatch.StartNew();
            for (var step = 0; step < s.OutputLength; step++)
            {
                var stepStart = Stopwatch.GetTimestamp();
                for (var b = 0; b < s.Batch; b++) batch.AddSequence(sequenceBase + b, s.InputLength + step, [next[b]], true);
                runner.Execute(batch, logits);
                for (var b = 0; b < s.Batch; b++) next[b] = Sampler.Greedy(logits.AsSpan(b * vocab, vocab));
                batch.Clear();
                if (measured) steps.Add(Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds);
            }
            var decodeSeconds = decodeClock.Elapsed.TotalSeconds;

            for (var b = 0; b < s.Batch; b++)
            {
                blocks.Free(tables[b]);
                batch.Release(sequenceBase + b);
            }
            runner.Execute(batch, logits);
            batch.Clear();
            sequenceBase += s.Batch;

            if (!measured) continue;
            prefill.Add(s.Batch * s.InputLength / prefillSeconds);
            decode.Add(s.OutputLength / decodeSeconds);
            ttft.Add(prefillSeconds * 1000);
        }

        return LatencyResult.From(prefill, decode, ttft, steps, s.Batch);
    }
}
