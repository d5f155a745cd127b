using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>The logits of one position of several windows from each runner: rows [0, Count) of window FirstWindow + row.</summary>
internal readonly record struct WindowStep(int FirstWindow, int Count, int Position, float[][] Logits);

/// <summary>
/// Runs token windows through one or more runners in lockstep and hands over the logits of every position in
/// [from, to) of every window. The runner API gives one logits row per sequence and step, so after one prefill of
/// positions [0, from) each window advances one token per step; several windows go together as separate sequences,
/// so each step is a batched decode. Each runner sees exactly the same batches, so their logits line up.
/// </summary>
internal static class WindowEvaluator
{
    /// <summary>KV blocks one window of <paramref name="to"/> positions needs.</summary>
    public static int BlocksPerWindow(int to, int blockSize) => (to + blockSize - 1) / blockSize;

    /// <summary>How many windows one group can hold on every runner: sequences and tokens per pass, and KV blocks.</summary>
    public static int GroupSize(IReadOnlyList<IModelRunner> runners, int windows, int to) => Math.Max(1, runners.Min(r =>
        Math.Min(Math.Min(windows, r.MaxBatchSequences), Math.Min(r.MaxBatchTokens, r.KvCache.BlockCount / BlocksPerWindow(to, r.KvCache.BlockSize)))));

    public static void Run(IReadOnlyList<IModelRunner> runners, IReadOnlyList<int[]> windows, int from, int to, Action<WindowStep> onStep)
    {
        if (runners.Count == 0) throw new ArgumentException("no runner", nameof(runners));
        if (from < 0 || to <= from) throw new ArgumentOutOfRangeException(nameof(to), $"positions [{from}, {to}) are empty");
        if (windows.Any(w => w.Length < to)) throw new ArgumentException($"every window needs {to} tokens", nameof(windows));
        var vocab = runners[0].Config.VocabSize;
        var blockSize = runners[0].KvCache.BlockSize;
        if (runners.Any(r => r.Config.VocabSize != vocab || r.KvCache.BlockSize != blockSize))
            throw new ArgumentException("the runners differ in vocabulary or KV block size", nameof(runners));
        var group = GroupSize(runners, windows.Count, to);
        if (runners.Any(r => r.KvCache.BlockCount < BlocksPerWindow(to, blockSize)))
            throw new ArgumentException($"a runner's KV pool cannot hold {to} positions", nameof(runners));
        var tokensPerPass = runners.Min(r => r.MaxBatchTokens);
        var blocksPerWindow = BlocksPerWindow(to, blockSize);
        var logits = runners.Select(_ => new float[group * vocab]).ToArray();
        var batch = new ForwardBatch();
        // Sequence ids far from the engine's (which count up from 0), never reused within a run.
        var nextId = long.MaxValue / 2;

        for (var first = 0; first < windows.Count; first += group)
        {
            var count = Math.Min(group, windows.Count - first);
            var ids = Enumerable.Range(0, count).Select(_ => nextId++).ToArray();
            var blocksSent = false;
            void Begin()
            {
                batch.Clear();
                if (blocksSent) return;
                for (var s = 0; s < count; s++)
                    batch.UpdateBlocks(ids[s], 0, Enumerable.Range(s * blocksPerWindow, blocksPerWindow).ToArray());
                blocksSent = true;
            }

            // Positions before `from` need no logits: prefill them in chunks that fit one pass.
            var chunk = Math.Max(1, tokensPerPass / count);
            for (var position = 0; position < from; position += chunk)
            {
                Begin();
                var n = Math.Min(chunk, from - position);
                for (var s = 0; s < count; s++) batch.AddSequence(ids[s], position, windows[first + s].AsSpan(position, n), computeLogits: false);
                foreach (var r in runners) r.Execute(batch, Span<float>.Empty);
            }

            for (var position = from; position < to; position++)
            {
                Begin();
                for (var s = 0; s < count; s++) batch.AddSequence(ids[s], position, windows[first + s].AsSpan(position, 1), computeLogits: true);
                for (var i = 0; i < runners.Count; i++) runners[i].Execute(batch, logits[i].AsSpan(0, count * vocab));
                onStep(new WindowStep(first, count, position, logits));
            }

            batch.Clear();
            foreach (var id in ids) batch.Release(id);
            foreach (var r in runners) r.Execute(batch, Span<float>.Empty);
        }
    }
}
