using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// The model's weights as f32 pointers. F32 tensors are used in place in the memory-mapped file; other types
/// (F16, BF16, Q8_0, Q4_0, ...) are dequantized once at load into native buffers.
/// </summary>
internal sealed unsafe class CpuWeights : IDisposable
{
    private readonly List<NativeBuffer> _owned = [];

    public CpuWeights(LlamaWeights w, WorkerPool pool)
    {
        TokenEmbedding = F32(w.TokenEmbedding, pool);
        RmsFinalWeight = F32(w.RmsFinalWeight, pool);
        Classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? TokenEmbedding : F32(w.Classifier, pool);
        Layers = w.Layers.Select(l => new Layer(
            F32(l.RmsAttWeight, pool), F32(l.Wq, pool), F32(l.Wk, pool), F32(l.Wv, pool), F32(l.Wo, pool),
            F32(l.RmsFfnWeight, pool), F32(l.W1, pool), F32(l.W2, pool), F32(l.W3, pool))).ToArray();
        DequantizedBytes = _owned.Sum(b => b.Length * sizeof(float));
    }

    public float* TokenEmbedding { get; }
    public float* RmsFinalWeight { get; }
    public float* Classifier { get; }
    public Layer[] Layers { get; }

    /// <summary>Bytes of native memory holding weights converted to f32 (0 for an all-f32 model).</summary>
    public long DequantizedBytes { get; }

    private float* F32(TensorView view, WorkerPool pool)
    {
        if (view.Type == GgmlType.F32) return (float*)view.Data;
        var buffer = new NativeBuffer(view.ElementCount);
        _owned.Add(buffer);
        var job = new DequantizeJob(view, buffer.Pointer);
        pool.Run(job, job.Items);
        return buffer.Pointer;
    }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }

    /// <summary>One transformer block's f32 weights (run.c names).</summary>
    public sealed class Layer(float* rmsAttWeight, float* wq, float* wk, float* wv, float* wo, float* rmsFfnWeight, float* w1, float* w2, float* w3)
    {
        public float* RmsAttWeight { get; } = rmsAttWeight;
        public float* Wq { get; } = wq;
        public float* Wk { get; } = wk;
        public float* Wv { get; } = wv;
        public float* Wo { get; } = wo;
        public float* RmsFfnWeight { get; } = rmsFfnWeight;
        public float* W1 { get; } = w1;
        public float* W2 { get; } = w2;
        public float* W3 { get; } = w3;
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
