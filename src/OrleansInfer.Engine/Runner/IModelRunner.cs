using OrleansInfer.Model;

namespace OrleansInfer.Engine.Runner;

/// <summary>
/// Runs the decoder over one step's batch: the tokens of many sequences at once (prompt chunks and decode
/// steps mixed), reading and writing a paged KV cache it owns. Backends (CPU SIMD, ILGPU) implement it;
/// the engine never knows which one it drives. Not thread-safe: one engine thread calls it.
/// </summary>
public interface IModelRunner : IDisposable
{
    LlamaConfig Config { get; }

    /// <summary>Geometry and size of the KV block pool the runner allocated.</summary>
    KvCacheInfo KvCache { get; }

    /// <summary>Most tokens one <see cref="Execute"/> call may carry (activation buffers are sized for it).</summary>
    int MaxBatchTokens { get; }

    /// <summary>Most sequences one call may carry.</summary>
    int MaxBatchSequences { get; }

    /// <summary>Human-readable device description (e.g. "CPU, 2 threads, AVX-512").</summary>
    string DeviceName { get; }

    /// <summary>
    /// Applies the batch's state changes (released sequences — releasing one the runner does not hold is not an
    /// error —, block-table updates, block copies), runs the
    /// forward pass, and writes one row of <see cref="LlamaConfig.VocabSize"/> logits per sequence that asked
    /// for them, in batch order, into <paramref name="logits"/>.
    /// </summary>
    void Execute(ForwardBatch batch, Span<float> logits);
}

/// <summary>The KV block pool: <see cref="BlockCount"/> blocks of <see cref="BlockSize"/> token slots.</summary>
public sealed record KvCacheInfo(int BlockSize, int BlockCount, long BytesPerBlock, KvCacheDataType DataType = KvCacheDataType.F32)
{
    /// <summary>Bytes one token's keys and values take across all layers in this pool.</summary>
    public long TokenBytes => BytesPerBlock / BlockSize;

    public long TotalBytes => BlockCount * BytesPerBlock;

    public int TotalSlots => BlockCount * BlockSize;

    /// <summary>
    /// Bytes one token's keys and values take across all layers: the sum of each layer's KV width (layers may have
    /// different KV head counts, deci), never the widest layer times the layer count.
    /// </summary>
    public static long BytesPerToken(LlamaConfig c, int bytesPerElement)
    {
        long values = 0;
        for (var l = 0; l < c.BlockCount; l++) values += c.KvDimOf(l);
        return 2L * values * bytesPerElement;
    }

    /// <summary>Bytes one token's keys and values take across all layers when stored as <paramref name="type"/> (one row per KV head, summed over layers).</summary>
    public static long BytesPerToken(LlamaConfig c, KvCacheDataType type)
    {
        long heads = 0;
        for (var l = 0; l < c.BlockCount; l++) heads += c.KvHeadCountOf(l);
        return 2L * heads * KvCacheDataTypes.RowBytes(type, c.HeadDim);
    }
}
