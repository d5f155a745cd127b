using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// The decoder forward pass on the CPU for every supported family (llama, qwen2, qwen3, phi3, gemma2, gemma3, deci:
/// the features are switched on by the config and the optional weights): one call runs every scheduled token of every
/// sequence through the model together (prompt chunks as matrix-matrix products, decode steps of many sequences sharing one pass
/// over the weights), with K/V kept in a paged block pool addressed through per-sequence block tables.
/// All buffers are allocated at construction; <see cref="Execute"/> allocates nothing.
/// </summary>
public sealed unsafe partial class CpuModelRunner : IModelRunner
{
    private readonly LlamaConfig _c;
    private readonly WorkerPool _pool;
    private readonly CpuWeights _w;
    private readonly BlockTables _tables = new();
    private readonly RopeTables _rope;
    private readonly LayerPlan[] _plan;

    // KV pool: per layer [block][slot][kv row] for keys, then the same for values, in the options' data type.
    private readonly KvPool _kv;

    // Activations, sized for MaxBatchTokens (run.c names).
    private readonly NativeBuffer _x;      // (T, dim) residual stream
    private readonly NativeBuffer _xb;     // (T, max(dim, q_dim)) normed input, then attention output (T, q_dim)
    private readonly NativeBuffer _xb2;    // (T, dim) attention / feed-forward output before a post norm (gemma), else unused
    private readonly NativeBuffer _q;      // (T, q_dim): q_dim = n_heads * head_dim, which may differ from dim
    private readonly NativeBuffer _k;      // (T, kv_dim)
    private readonly NativeBuffer _v;      // (T, kv_dim)
    private readonly NativeBuffer _hb;     // (T, hidden_dim)
    private readonly NativeBuffer _hb2;    // (T, hidden_dim)
    private readonly NativeBuffer _xLogits; // (S, dim) final-normed rows that need logits
    private readonly NativeBuffer _scratch; // per worker: attention scores (context) + one decoded KV row

    // Per-token bookkeeping for the current step.
    private readonly int[] _positions;
    private readonly int[] _slots;
    private readonly int[] _tokenSequence;
    private readonly List<int>[] _sequenceTables;
    private readonly int[] _logitRows;

    private readonly MatMulJob _matmul;
    private readonly QkvJob _qkv;
    private readonly AttentionJob _attention;
    private readonly RowJob _rows;
    private readonly long _scratchPerWorker;

    public CpuModelRunner(ModelFile model, CpuRunnerOptions? options = null)
    {
        options ??= new CpuRunnerOptions();
        options.Validate();
        _c = model.Config ?? throw new ArgumentException("the model file has no weights", nameof(model));
        KvCacheDataTypes.EnsureSupported(options.KvCacheDataType, _c);
        var weights = model.Weights!;
        _rope = new RopeTables(_c, weights, options.MaxBatchTokens);
        try
        {
            _plan = LayerPlan.For(_c, _rope);
        }
        catch
        {
            _rope.Dispose();
            throw;
        }
        _pool = new WorkerPool(options.Threads);
        try
        {
            _w = new CpuWeights(weights, _pool);
        }
        catch
        {
            _pool.Dispose();
            _rope.Dispose();
            throw;
        }

        MaxBatchTokens = options.MaxBatchTokens;
        MaxBatchSequences = Math.Min(options.MaxBatchSequences, options.MaxBatchTokens);
        var bytesPerBlock = KvCacheInfo.BytesPerToken(_c, options.KvCacheDataType) * options.BlockSize;
        // By default: what the budget allows, but no more than every sequence of a full batch at full context.
        var useful = (long)(_c.ContextLength + options.BlockSize - 1) / options.BlockSize * MaxBatchSequences;
        var blocks = options.KvBlocks ?? (int)Math.Clamp(Math.Min(options.KvCacheBytes / bytesPerBlock, useful), 1, int.MaxValue);
        KvCache = new KvCacheInfo(options.BlockSize, blocks, bytesPerBlock, options.KvCacheDataType);
        _kv = new KvPool(_c, options.KvCacheDataType, options.BlockSize, blocks);

        int t = MaxBatchTokens, dim = _c.EmbeddingLength, queryDim = _c.QueryDim;
        var postNorms = _w.Layers.Any(l => l.PostAttentionNorm != null || l.PostFeedForwardNorm != null);
        _x = new NativeBuffer((long)t * dim);
        _xb = new NativeBuffer((long)t * Math.Max(dim, queryDim));
        _xb2 = new NativeBuffer(postNorms ? (long)t * dim : 0);
        _q = new NativeBuffer((long)t * queryDim);
        _k = new NativeBuffer((long)t * _c.KvDim);
        _v = new NativeBuffer((long)t * _c.KvDim);
        _hb = new NativeBuffer((long)t * _c.FeedForwardLength);
        _hb2 = new NativeBuffer((long)t * _c.FeedForwardLength);
        _xLogits = new NativeBuffer((long)MaxBatchSequences * dim);
        // Attention scores span at most the model's context (positions beyond it are rejected), then one decoded KV row.
        _scratchPerWorker = ((_c.ContextLength + 15) & ~15L) + ((_c.HeadDim + 15) & ~15L);
        _scratch = new NativeBuffer(_scratchPerWorker * options.Threads);

        _positions = new int[t];
        _slots = new int[t];
        _tokenSequence = new int[t];
        _sequenceTables = new List<int>[MaxBatchSequences];
        _logitRows = new int[MaxBatchSequences];

        var formats = _w.Matrices.Select(m => WeightMatrix.ActivationFormatOf(m.Type)).ToHashSet();
        _matmul = new MatMulJob(options.Threads, t, Math.Max(Math.Max(dim, queryDim), _c.FeedForwardLength), formats);
        _qkv = new QkvJob(this);
        _attention = new AttentionJob(this);
        _rows = new RowJob(this);

        var simd = Simd.Level switch { SimdLevel.Avx512 => "AVX-512", SimdLevel.AvxVnni => "AVX-VNNI", SimdLevel.Avx2 => "AVX2", _ => "scalar" };
        DeviceName = $"CPU ({options.Threads} threads, {simd})";
    }

    public LlamaConfig Config => _c;

    public KvCacheInfo KvCache { get; }

    public int MaxBatchTokens { get; }

    public int MaxBatchSequences { get; }

    public string DeviceName { get; }

    /// <summary>
    /// Bytes of weight matrices expanded to f32 at load: 0 when every matrix has a native kernel (F32, F16, BF16,
    /// Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) and is read in place from the mapped file.
    /// </summary>
    public long DequantizedWeightBytes => _w.DequantizedBytes;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        _tables.Apply(batch, KvCache.BlockCount);
        foreach (var copy in batch.BlockCopies) CopyBlock(copy);
        var tokens = batch.TokenCount;
        if (tokens == 0) return;
        if (tokens > MaxBatchTokens) throw new ArgumentException($"batch has {tokens} tokens, the runner takes at most {MaxBatchTokens}", nameof(batch));
        if (batch.SequenceCount > MaxBatchSequences) throw new ArgumentException($"batch has {batch.SequenceCount} sequences, the runner takes at most {MaxBatchSequences}", nameof(batch));
        var vocab = _c.VocabSize;
        if (logits.Length < batch.LogitsRows * vocab) throw new ArgumentException($"logits span holds {logits.Length} floats, {batch.LogitsRows} rows of {vocab} needed", nameof(logits));

        PrepareTokens(batch);
        Embed(batch.Tokens);
        for (var layer = 0; layer < _c.BlockCount; layer++) Layer(layer, tokens);
        if (batch.LogitsRows == 0) return;

        fixed (float* output = logits)
        {
            Classify(batch.LogitsRows, output);
        }
    }

    private void PrepareTokens(ForwardBatch batch)
    {
        var bs = KvCache.BlockSize;
        var seqs = batch.Sequences;
        var logitRows = 0;
        for (var s = 0; s < seqs.Length; s++)
        {
            ref readonly var step = ref seqs[s];
            if (step.StartPosition < 0 || step.EndPosition > _c.ContextLength)
                throw new ArgumentException($"sequence {step.SequenceId} spans positions {step.StartPosition}..{step.EndPosition - 1}, outside the model's context of {_c.ContextLength}", nameof(batch));
            var table = _tables.For(step, bs);
            _sequenceTables[s] = table;
            for (var j = 0; j < step.TokenCount; j++)
            {
                var t = step.TokenOffset + j;
                var pos = step.StartPosition + j;
                _positions[t] = pos;
                _tokenSequence[t] = s;
                _slots[t] = table[pos / bs] * bs + pos % bs;
            }
            if (step.ComputeLogits) _logitRows[logitRows++] = step.TokenOffset + step.TokenCount - 1;
        }
        _attention.Sequences = seqs.Length;
    }

    private void Embed(ReadOnlySpan<int> tokens)
    {
        var dim = _c.EmbeddingLength;
        for (var t = 0; t < tokens.Length; t++)
        {
            var id = tokens[t];
            if ((uint)id >= (uint)_c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), id, $"token id {id} is outside the vocabulary of {_c.VocabSize}");
            _w.EmbeddingRow(id, _x.Pointer + (long)t * dim);
            // gemma: the embedding times sqrt(dim) (ggml_scale of the looked-up rows).
            if (_c.EmbeddingScale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(_x.Span((long)t * dim, dim), _c.EmbeddingScale, _x.Span((long)t * dim, dim));
        }
    }

    private void Classify(int rows, float* output)
    {
        var dim = _c.EmbeddingLength;
        for (var r = 0; r < rows; r++)
            Norms.RmsNorm(_xLogits.Pointer + (long)r * dim, _x.Pointer + (long)_logitRows[r] * dim, _w.RmsFinalWeight, dim, _c.RmsEpsilon);
        _matmul.Set(_xLogits.Pointer, rows, dim);
        _matmul.Add(_w.Classifier, output, _c.VocabSize, accumulate: false);
        _matmul.Run(_pool);
        if (_c.FinalLogitSoftcap is { } cap) _rows.Softcap(output, _c.VocabSize, rows, cap);
    }

    private void CopyBlock(BlockCopy copy)
    {
        if ((uint)copy.Source >= (uint)KvCache.BlockCount || (uint)copy.Destination >= (uint)KvCache.BlockCount)
            throw new ArgumentException($"block copy {copy.Source} -> {copy.Destination} outside the pool of {KvCache.BlockCount}");
        _kv.CopyBlock(copy.Source, copy.Destination);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _w.Dispose();
        _matmul.Dispose();
        _kv.Dispose();
        _rope.Dispose();
        foreach (var b in new[] { _x, _xb, _xb2, _q, _k, _v, _hb, _hb2, _xLogits, _scratch }) b.Dispose();
    }
}
