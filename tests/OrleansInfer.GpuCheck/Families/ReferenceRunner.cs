using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck.Families;

/// <summary>
/// A naive, scalar implementation of the model-family forward pass of the contract (one token at a time,
/// double accumulators, a paged KV cache of plain arrays per layer), written from the contract rather than from the
/// kernels, so the ILGPU runner can be checked on every family feature while the CPU backend does not have them yet.
/// KV rows are rounded through the pool's encoding (f16, q8_0) as the backends store them.
/// </summary>
public sealed partial class ReferenceRunner : IModelRunner
{
    private readonly BlockTables _tables = new();
    private readonly Layer[] _layers;
    private readonly float[] _embedding, _finalNorm, _classifier;
    private readonly RopeTable[] _rope;

    // Per layer: keys and values of every slot, [slot][layer's kv_dim].
    private readonly float[][] _k, _v;

    public ReferenceRunner(ModelFile model, int blocks, int blockSize, KvCacheDataType kvType = KvCacheDataType.F32)
    {
        Config = model.Config!;
        var w = model.Weights!;
        _embedding = w.TokenEmbedding.ToFloatArray();
        _classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? _embedding : w.Classifier.ToFloatArray();
        _finalNorm = w.RmsFinalWeight.ToFloatArray();
        _layers = w.Layers.Select(l => new Layer(l)).ToArray();
        _rope = Enumerable.Range(0, Config.BlockCount).Select(l => RopeTable.For(Config, w, l)).ToArray();
        var slots = blocks * blockSize;
        _k = Enumerable.Range(0, Config.BlockCount).Select(l => new float[slots * Config.KvDimOf(l)]).ToArray();
        _v = Enumerable.Range(0, Config.BlockCount).Select(l => new float[slots * Config.KvDimOf(l)]).ToArray();
        KvType = kvType;
        var bytesPerToken = Enumerable.Range(0, Config.BlockCount).Sum(l => 2L * Config.KvHeadCountOf(l) * KvCacheDataTypes.RowBytes(kvType, Config.HeadDim));
        KvCache = new KvCacheInfo(blockSize, blocks, bytesPerToken * blockSize, kvType);
    }

    public LlamaConfig Config { get; }

    public KvCacheInfo KvCache { get; }

    public KvCacheDataType KvType { get; }

    public int MaxBatchTokens => 1 << 16;

    public int MaxBatchSequences => 1 << 10;

    public string DeviceName => "reference";

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        _tables.Apply(batch, KvCache.BlockCount);
        var bs = KvCache.BlockSize;
        foreach (var copy in batch.BlockCopies)
        {
            for (var l = 0; l < Config.BlockCount; l++)
            {
                var n = bs * Config.KvDimOf(l);
                Array.Copy(_k[l], copy.Source * n, _k[l], copy.Destination * n, n);
                Array.Copy(_v[l], copy.Source * n, _v[l], copy.Destination * n, n);
            }
        }
        var row = 0;
        foreach (var step in batch.Sequences)
        {
            var table = _tables.For(step, bs);
            var tokens = batch.TokensOf(step);
            float[]? last = null;
            for (var j = 0; j < tokens.Length; j++) last = Token(tokens[j], step.StartPosition + j, table);
            if (!step.ComputeLogits) continue;
            last.AsSpan().CopyTo(logits.Slice(row * Config.VocabSize, Config.VocabSize));
            row++;
        }
    }

    public void Dispose()
    {
    }

    /// <summary>One layer's weights decoded to f32 (Wqkv etc. as the file has them: rows of outputs).</summary>
    private sealed class Layer(LayerWeights w)
    {
        public float[] AttNorm { get; } = w.RmsAttWeight.ToFloatArray();
        public float[] Wq { get; } = w.Wq.ToFloatArray();
        public float[] Wk { get; } = w.Wk.ToFloatArray();
        public float[] Wv { get; } = w.Wv.ToFloatArray();
        public float[] Wo { get; } = w.Wo.ToFloatArray();
        public float[] FfnNorm { get; } = w.RmsFfnWeight.ToFloatArray();
        public float[] W1 { get; } = w.W1.ToFloatArray();
        public float[] W2 { get; } = w.W2.ToFloatArray();
        public float[] W3 { get; } = w.W3.ToFloatArray();
        public float[]? Bq { get; } = w.Bq?.ToFloatArray();
        public float[]? Bk { get; } = w.Bk?.ToFloatArray();
        public float[]? Bv { get; } = w.Bv?.ToFloatArray();
        public float[]? QNorm { get; } = w.QNorm?.ToFloatArray();
        public float[]? KNorm { get; } = w.KNorm?.ToFloatArray();
        public float[]? PostAttentionNorm { get; } = w.PostAttentionNorm?.ToFloatArray();
        public float[]? PostFeedForwardNorm { get; } = w.PostFeedForwardNorm?.ToFloatArray();
    }

    /// <summary>A KV row as the pool stores it: f32, or encoded as f16 / q8_0 (blocks of 32 along the row) and decoded.</summary>
    private void Store(float[] pool, long at, float[] row)
    {
        if (KvType != KvCacheDataType.F32)
        {
            var type = KvType == KvCacheDataType.F16 ? GgmlType.F16 : GgmlType.Q8_0;
            var bytes = new byte[GgmlTypeInfo.ByteCount(type, row.Length)];
            Quantize.Row(type, row, bytes);
            Dequantize.Row(type, bytes, row);
        }
        row.CopyTo(pool, at);
    }
}
