namespace OrleansInfer.Engine.Core;

/// <summary>
/// An engine's load as of its latest step, published for other threads (a worker's reports to its router):
/// the KV pool, the running and waiting requests, recent throughput, the prefix hashes it can serve and its health.
/// </summary>
public sealed record EngineLoad(
    KvCacheStats KvCache,
    int RunningRequests,
    int WaitingRequests,
    int WaitingBlocks,
    double TokensPerSecond,
    ulong[] PrefixHashes,
    EngineHealth Health)
{
    public bool IsIdle => RunningRequests == 0 && WaitingRequests == 0;
}
