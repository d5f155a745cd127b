using System.Runtime.InteropServices;
using OrleansInfer.Engine.KvCache;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// Gives a sequence that holds no blocks the cached blocks of its longest computed prefix, so only the rest is
/// computed. The last token is always left to compute: its logits are needed.
/// </summary>
internal sealed class PrefixHits(BlockManager blocks)
{
    private readonly List<int> _hitBlocks = [];
    private readonly List<ulong> _hitHashes = [];

    /// <summary>Allocates the hits of every blockless sequence of <paramref name="request"/>.</summary>
    public void Allocate(RequestState request)
    {
        var live = request.Live;
        foreach (var s in live)
        {
            if (s.Blocks.Count != 0 || s.ComputedTokens != 0) continue;
            s.ComputedTokens = blocks.MatchPrefix(CollectionsMarshal.AsSpan(s.Tokens), s.Tokens.Count - 1, _hitBlocks, _hitHashes);
            if (_hitBlocks.Count > 0 && !blocks.TryAllocate(s.Blocks, s.ComputedTokens, _hitBlocks, _hitHashes)) s.ComputedTokens = 0;
            // Usage reports what the cache held at the first admission (CountsAgainstQueue is true until then), as vLLM
            // does: a recompute after preemption that hits the request's own blocks is not "cached".
            if (request.CountsAgainstQueue && s == live[0]) request.CachedPromptTokens = s.ComputedTokens;
        }
    }
}
