namespace OrleansInfer.Backends.Cpu;

/// <summary>Sizes of the CPU runner's thread pool, KV block pool and activation buffers.</summary>
public sealed record CpuRunnerOptions
{
    /// <summary>Threads that compute (the calling engine thread included); all cores by default.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Token slots per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV blocks to allocate; when null, as many as <see cref="KvCacheBytes"/> allows.</summary>
    public int? KvBlocks { get; init; }

    /// <summary>Memory budget for the KV cache when <see cref="KvBlocks"/> is not given.</summary>
    public long KvCacheBytes { get; init; } = 1L << 30;

    /// <summary>How keys and values are stored (f32 by default; f16 halves the pool's bytes per token).</summary>
    public OrleansInfer.Engine.Runner.KvCacheDataType KvCacheDataType { get; init; } = OrleansInfer.Engine.Runner.KvCacheDataType.F32;

    /// <summary>Most tokens per forward pass (prompt chunks plus decodes).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most sequences per forward pass.</summary>
    public int MaxBatchSequences { get; init; } = 256;

    public void Validate()
    {
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be at least 1");
        if (BlockSize < 1 || BlockSize > 1024) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "block size must be 1..1024");
        if (KvBlocks is < 1) throw new ArgumentOutOfRangeException(nameof(KvBlocks), KvBlocks, "KV blocks must be at least 1");
        if (KvCacheBytes < 1) throw new ArgumentOutOfRangeException(nameof(KvCacheBytes), KvCacheBytes, "KV cache bytes must be positive");
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "max batch tokens must be at least 1");
        if (MaxBatchSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSequences), MaxBatchSequences, "max batch sequences must be at least 1");
    }
}
