using System.Runtime.InteropServices;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// Writes a step's decisions into the runner's batch as diffs of its per-sequence state: releases, block copies,
/// then every scheduled sequence's block-table changes and new tokens, in batch order.
/// </summary>
internal static class BatchBuilder
{
    public static void Write(ForwardBatch batch, List<long> releases, List<BlockCopyRequest> copies, List<Sequence> scheduled)
    {
        foreach (var id in releases) batch.Release(id);
        foreach (var c in copies) batch.CopyBlock(c.Source, c.Destination);
        foreach (var s in scheduled)
        {
            var ids = CollectionsMarshal.AsSpan(s.Blocks.Ids);
            var known = Math.Max(0, s.RunnerBlocks);
            if (s.RunnerBlocks < 0 || ids.Length > known) batch.UpdateBlocks(s.Id, known, ids[known..]);
            s.RunnerBlocks = ids.Length;
            batch.AddSequence(s.Id, s.ComputedTokens, CollectionsMarshal.AsSpan(s.Tokens).Slice(s.ComputedTokens, s.Scheduled), s.WantsLogits);
        }
    }
}
