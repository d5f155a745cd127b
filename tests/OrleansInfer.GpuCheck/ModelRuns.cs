using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Testing;

namespace OrleansInfer.GpuCheck;

/// <summary>Whole-model runs shared by the unit tests and the GPU check.</summary>
public static class ModelRuns
{
    /// <summary>
    /// Greedy decoding of every reference case at once (one sequence each, batched decode); returns per case
    /// whether the tokens matched and the largest logits difference over the reference's logged steps.
    /// </summary>
    public static (bool TokensMatch, double MaxLogitDiff)[] GreedyReference(IModelRunner runner, GreedyReference reference)
    {
        var cases = reference.Cases;
        var driver = new StepDriver(runner);
        var steps = cases.Max(c => c.GeneratedTokenIds.Length);
        var logits = driver.Step(cases.Select((c, i) => ((long)i, 0, c.PromptTokenIds, true)).ToArray());
        var generated = cases.Select(_ => new List<int>()).ToArray();
        var maxDiff = new double[cases.Count];
        for (var step = 0; step < steps; step++)
        {
            var work = new List<(long, int, int[], bool)>();
            for (var i = 0; i < cases.Count; i++)
            {
                if (step < cases[i].Logits.Count)
                    maxDiff[i] = Math.Max(maxDiff[i], cases[i].Logits[step].Zip(logits[i]).Max(p => (double)Math.Abs(p.First - p.Second)));
                var next = Sampler.Greedy(logits[i]);
                generated[i].Add(next);
                work.Add((i, cases[i].PromptTokenIds.Length + step, [next], true));
            }
            if (step + 1 < steps) logits = driver.Step([.. work]);
        }
        return cases.Select((c, i) => (c.GeneratedTokenIds.SequenceEqual(generated[i].Take(c.GeneratedTokenIds.Length)), maxDiff[i])).ToArray();
    }

    /// <summary>
    /// The same mixed steps on two runners: two prompts prefilled in chunks of 3 alongside each other, a fork that
    /// shares the first prompt's full blocks and copies its partial last block (copy-on-write), then a few greedy
    /// decode steps of all three. Returns the largest logits difference seen.
    /// </summary>
    public static double CompareMixedBatches(IModelRunner a, IModelRunner b, int[] promptA, int[] promptB, int decodeSteps)
    {
        var runners = new[] { a, b };
        var batch = new ForwardBatch();
        var vocab = a.Config.VocabSize;
        var bs = a.KvCache.BlockSize;
        var logits = new[] { new float[3 * vocab], new float[3 * vocab] };
        var maxDiff = 0.0;
        void Run(int rows)
        {
            for (var r = 0; r < 2; r++) runners[r].Execute(batch, logits[r]);
            for (var i = 0; i < rows * vocab; i++) maxDiff = Math.Max(maxDiff, Math.Abs(logits[0][i] - logits[1][i]));
            batch.Clear();
        }

        // Blocks: sequence 0 from 0, sequence 1 from 20, the fork (2) gets copies from 40 on.
        int Blocks(int tokens) => (tokens + bs - 1) / bs;
        var longest = Math.Max(promptA.Length, promptB.Length) + decodeSteps;
        batch.UpdateBlocks(0, 0, Enumerable.Range(0, Blocks(longest)).ToArray());
        batch.UpdateBlocks(1, 0, Enumerable.Range(20, Blocks(longest)).ToArray());
        for (var start = 0; start < Math.Max(promptA.Length, promptB.Length); start += 3)
        {
            var rows = 0;
            foreach (var (id, p) in new[] { (0L, promptA), (1L, promptB) })
            {
                if (start >= p.Length) continue;
                var n = Math.Min(3, p.Length - start);
                var last = start + n == p.Length;
                batch.AddSequence(id, start, p[start..(start + n)], last);
                if (last) rows++;
            }
            Run(rows);
        }

        // Fork sequence 0: share its full blocks, copy the partial one, then decode all three greedily.
        var full = promptA.Length / bs;
        var forkTable = Enumerable.Range(0, full).Concat(Enumerable.Range(40, Blocks(promptA.Length + decodeSteps) - full)).ToArray();
        if (promptA.Length % bs != 0) batch.CopyBlock(full, 40);
        batch.UpdateBlocks(2, 0, forkTable);
        int[] next = [1, 1, 1];
        int[] lengths = [promptA.Length, promptB.Length, promptA.Length];
        for (var step = 0; step < decodeSteps; step++)
        {
            for (var s = 0; s < 3; s++) batch.AddSequence(s, lengths[s] + step, [next[s] + step % 7], true);
            Run(3);
            for (var s = 0; s < 3; s++) next[s] = Sampler.Greedy(logits[0].AsSpan(s * vocab, vocab));
        }
        return maxDiff;
    }
}
