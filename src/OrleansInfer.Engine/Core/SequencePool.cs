using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Where an engine's sequences come from: ids unique per engine (the runner keys its block tables by them), and
/// forks that share their parent's blocks by reference (copied on write), and the generator each output starts with.
/// </summary>
internal sealed class SequencePool(BlockManager blocks, ulong? defaultSeed)
{
    /// <summary>Added to a request's seed once per output index: output i of a seeded request draws from seed + i * this.</summary>
    public const ulong SeedStride = 0x9E3779B97F4A7C15UL;

    private long _nextId;

    /// <summary>Callable from any thread.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>A copy of <paramref name="parent"/> that joins its request's live sequences.</summary>
    public Sequence Fork(Sequence parent, int outputIndex, Xoshiro256 rng)
    {
        var child = parent.Fork(NextId(), outputIndex, rng);
        blocks.Fork(parent.Blocks, child.Blocks);
        parent.Request.Live.Add(child);
        return child;
    }

    /// <summary>
    /// The generator an output starts with: the state it reached elsewhere when resumed with one; else derived from the
    /// request's seed, or the engine's default one, so every output of a seeded request is the same wherever it runs;
    /// random without either.
    /// </summary>
    public Xoshiro256 Generator(SamplingParams p, PlannedOutput output)
    {
        if (output.Resumed?.RngState is { } state) return Xoshiro256.FromState(state);
        return (p.Seed ?? defaultSeed) is { } seed ? new Xoshiro256(unchecked(seed + (ulong)output.Index * SeedStride)) : new Xoshiro256((ulong)Random.Shared.NextInt64());
    }
}
