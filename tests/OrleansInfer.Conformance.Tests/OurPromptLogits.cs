using OrleansInfer.Backends.Cpu;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// Our CPU runner's logits for every position of a prompt (prompt length x vocabulary, row-major), two ways:
/// through prefill (each prefix its own sequence, packed into multi-token passes: the matrix-matrix kernels) and
/// through decode (one token per pass: the matrix-vector kernels). One thread, f32 KV cache.
/// </summary>
public sealed class OurPromptLogits : IDisposable
{
    private long _nextSequence;

    public OurPromptLogits(string path)
    {
        Model = ModelFile.Open(path);
        try
        {
            Runner = new CpuModelRunner(Model, new CpuRunnerOptions { Threads = 1, KvBlocks = 256 });
        }
        catch
        {
            Model.Dispose();
            throw;
        }
    }

    public ModelFile Model { get; }

    public CpuModelRunner Runner { get; }

    public int Vocab => Runner.Config.VocabSize;

    /// <summary>Position p's logits from a prefill of prompt[0..p], prefixes packed into passes of at most MaxBatchTokens tokens.</summary>
    public float[] ThroughPrefill(int[] prompt)
    {
        var all = new float[prompt.Length * Vocab];
        var blocks = new BlockManager(Runner.KvCache.BlockCount, Runner.KvCache.BlockSize, enablePrefixCaching: false);
        var batch = new ForwardBatch();
        var next = 0;
        while (next < prompt.Length)
        {
            var tables = new List<(long Id, SequenceBlocks Blocks)>();
            var budget = Runner.MaxBatchTokens;
            var first = next;
            while (next < prompt.Length && next + 1 <= budget && tables.Count < Runner.MaxBatchSequences)
            {
                var table = new SequenceBlocks();
                if (!blocks.TryAllocate(table, next + 1)) break;
                var id = _nextSequence++;
                batch.UpdateBlocks(id, 0, table.Ids.ToArray());
                batch.AddSequence(id, 0, prompt.AsSpan(0, next + 1), computeLogits: true);
                tables.Add((id, table));
                budget -= next + 1;
                next++;
            }
            if (tables.Count == 0) throw new InvalidOperationException($"a prefix of {next + 1} tokens does not fit one pass");
            Runner.Execute(batch, all.AsSpan(first * Vocab, tables.Count * Vocab));
            batch.Clear();
            Release(batch, blocks, tables);
        }
        return all;
    }

    /// <summary>Position p's logits from the decode step that appends prompt[p] (position 0 is a one-token prefill).</summary>
    public float[] ThroughDecode(int[] prompt)
    {
        var all = new float[prompt.Length * Vocab];
        var blocks = new BlockManager(Runner.KvCache.BlockCount, Runner.KvCache.BlockSize, enablePrefixCaching: false);
        var batch = new ForwardBatch();
        var table = new SequenceBlocks();
        if (!blocks.TryAllocate(table, prompt.Length)) throw new InvalidOperationException($"the KV pool cannot hold {prompt.Length} tokens");
        var id = _nextSequence++;
        batch.UpdateBlocks(id, 0, table.Ids.ToArray());
        for (var p = 0; p < prompt.Length; p++)
        {
            batch.AddSequence(id, p, prompt.AsSpan(p, 1), computeLogits: true);
            Runner.Execute(batch, all.AsSpan(p * Vocab, Vocab));
            batch.Clear();
        }
        Release(batch, blocks, [(id, table)]);
        return all;
    }

    private void Release(ForwardBatch batch, BlockManager blocks, List<(long Id, SequenceBlocks Blocks)> tables)
    {
        foreach (var (id, table) in tables)
        {
            blocks.Free(table);
            batch.Release(id);
        }
        Runner.Execute(batch, Span<float>.Empty);
        batch.Clear();
    }

    public void Dispose()
    {
        Runner.Dispose();
        Model.Dispose();
    }
}
