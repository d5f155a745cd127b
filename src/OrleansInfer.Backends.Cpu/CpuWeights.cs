using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// The model's weights as the kernels read them. Every matrix whose type has a native kernel (F32, F16, BF16,
/// Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) stays in place in the memory-mapped file; any other type (Q4_1, Q5_0, Q5_1,
/// Q2_K, Q3_K, ...) is dequantized to f32 once at load. The token embedding is read in place too and only the
/// looked-up rows are decoded. Norm vectors are small and become f32.
/// </summary>
internal sealed unsafe class CpuWeights : IDisposable
{
    private readonly List<NativeBuffer> _owned = [];
    private readonly TensorView _embedding;
    private readonly int _dim;

    public CpuWeights(LlamaWeights w, WorkerPool pool)
    {
        _dim = checked((int)w.TokenEmbedding.Columns);
        RmsFinalWeight = Vector(w.RmsFinalWeight);
        Classifier = Matrix(w.Classifier, pool);
        _embedding = w.TokenEmbedding;
        Layers = w.Layers.Select(l => new Layer(
            Vector(l.RmsAttWeight), Matrix(l.Wq, pool), Matrix(l.Wk, pool), Matrix(l.Wv, pool), Matrix(l.Wo, pool),
            Vector(l.RmsFfnWeight), Matrix(l.W1, pool), Matrix(l.W2, pool), Matrix(l.W3, pool))
        {
            Bq = Optional(l.Bq), Bk = Optional(l.Bk), Bv = Optional(l.Bv), QNorm = Optional(l.QNorm), KNorm = Optional(l.KNorm),
            PostAttentionNorm = Optional(l.PostAttentionNorm), PostFeedForwardNorm = Optional(l.PostFeedForwardNorm),
        }).ToArray();
    }

    public float* RmsFinalWeight { get; }

    public WeightMatrix Classifier { get; }

    public Layer[] Layers { get; }

    /// <summary>Bytes of weight matrices expanded to f32 at load (0 when every matrix has a native kernel).</summary>
    public long DequantizedBytes { get; private set; }

    /// <summary>Every matrix (layers, then the classifier).</summary>
    public IEnumerable<WeightMatrix> Matrices => Layers.SelectMany(l => new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.W1, l.W2, l.W3 }).Append(Classifier);

    /// <summary>Writes the embedding row of <paramref name="token"/> (dim floats) to <paramref name="destination"/>.</summary>
    public void EmbeddingRow(int token, float* destination)
    {
        var rowBytes = _embedding.RowBytes;
        var source = new ReadOnlySpan<byte>(_embedding.Data + token * rowBytes, checked((int)rowBytes));
        Dequantize.Row(_embedding.Type, source, new Span<float>(destination, _dim));
    }

    private float* Optional(TensorView? view) => view is null ? null : Vector(view);

    private float* Vector(TensorView view)
    {
        if (view.Type == GgmlType.F32) return (float*)view.Data;
        var buffer = new NativeBuffer(view.ElementCount);
        _owned.Add(buffer);
        view.ReadRows(0, checked((int)view.Rows), new Span<float>(buffer.Pointer, checked((int)view.ElementCount)));
        return buffer.Pointer;
    }

    private WeightMatrix Matrix(TensorView view, WorkerPool pool)
    {
        if (WeightMatrix.HasNativeKernel(view.Type)) return WeightMatrix.InPlace(view);
        var buffer = new NativeBuffer(view.ElementCount);
        _owned.Add(buffer);
        var job = new DequantizeJob(view, buffer.Pointer);
        pool.Run(job, job.Items);
        DequantizedBytes += view.ElementCount * sizeof(float);
        return WeightMatrix.F32(buffer.Pointer, checked((int)view.Rows), checked((int)view.Columns));
    }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }

    /// <summary>One transformer block's weights (run.c names).</summary>
    public sealed class Layer(float* rmsAttWeight, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float* rmsFfnWeight, WeightMatrix w1, WeightMatrix w2, WeightMatrix w3)
    {
        /// <summary>(dim,)</summary>
        public float* RmsAttWeight { get; } = rmsAttWeight;

        /// <summary>(n_heads * head_size, dim)</summary>
        public WeightMatrix Wq { get; } = wq;

        /// <summary>(kv_dim, dim)</summary>
        public WeightMatrix Wk { get; } = wk;

        /// <summary>(kv_dim, dim)</summary>
        public WeightMatrix Wv { get; } = wv;

        /// <summary>(dim, n_heads * head_size)</summary>
        public WeightMatrix Wo { get; } = wo;

        /// <summary>(n_heads * head_size,), (kv_dim,), (kv_dim,) or null: qwen2's projection biases.</summary>
        public float* Bq { get; init; }

        public float* Bk { get; init; }

        public float* Bv { get; init; }

        /// <summary>(head_size,) or null: per-head RMSNorm weights of q and k before RoPE (qwen3, gemma3).</summary>
        public float* QNorm { get; init; }

        public float* KNorm { get; init; }

        /// <summary>(dim,) or null: gemma's RMSNorm of the attention / feed-forward output before the residual add.</summary>
        public float* PostAttentionNorm { get; init; }

        public float* PostFeedForwardNorm { get; init; }

        /// <summary>(dim,)</summary>
        public float* RmsFfnWeight { get; } = rmsFfnWeight;

        /// <summary>(hidden_dim, dim)</summary>
        public WeightMatrix W1 { get; } = w1;

        /// <summary>(dim, hidden_dim)</summary>
        public WeightMatrix W2 { get; } = w2;

        /// <summary>(hidden_dim, dim)</summary>
        public WeightMatrix W3 { get; } = w3;
    }

    private sealed class DequantizeJob(TensorView view, float* destination) : IParallelWork
    {
        private const int RowsPerItem = 64;

        public int Items => (int)((view.Rows + RowsPerItem - 1) / RowsPerItem);

        public void Execute(int item, int worker)
        {
            var row = (long)item * RowsPerItem;
            var count = (int)Math.Min(RowsPerItem, view.Rows - row);
            var cols = (int)view.Columns;
            view.ReadRows(row, count, new Span<float>(destination + row * cols, count * cols));
        }
    }
}
