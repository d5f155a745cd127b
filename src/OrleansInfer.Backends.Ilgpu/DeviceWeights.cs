using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The model's weights on the device, uploaded once. Products that share an input are stacked into one matrix so
/// one launch computes them: Wqkv = [Wq; Wk; Wv] (dim + 2 kv_dim rows; one launch per part when their types differ),
/// W13 = [W1; W3] (2 hidden rows, the gated pair, always one format). Norm weights and biases are f32. The optional
/// tensors of the other families (Q/K/V biases stacked as one vector like Wqkv, per-head Q/K norms, post norms) are
/// null where the model has none.
/// </summary>
internal sealed class DeviceWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public DeviceWeights(Accelerator a, LlamaWeights w)
    {
        try
        {
            TokenEmbedding = Own(DeviceMatrix.Upload(a, w.TokenEmbedding));
            Classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? TokenEmbedding : Own(DeviceMatrix.Upload(a, w.Classifier));
            RmsFinalWeight = Vector(a, w.RmsFinalWeight);
            Layers = w.Layers.Select(l => new Layer(
                Vector(a, l.RmsAttWeight),
                Own(DeviceMatrix.Stack(a, l.Wq, l.Wk, l.Wv)),
                Own(DeviceMatrix.Upload(a, l.Wo)),
                Vector(a, l.RmsFfnWeight),
                Own(DeviceMatrix.Upload(a, l.W1, l.W3)),
                Own(DeviceMatrix.Upload(a, l.W2)))
            {
                Bqkv = StackedBias(a, l),
                QNorm = Optional(a, l.QNorm),
                KNorm = Optional(a, l.KNorm),
                PostAttentionNorm = Optional(a, l.PostAttentionNorm),
                PostFeedForwardNorm = Optional(a, l.PostFeedForwardNorm),
            }).ToArray();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>(vocab, dim).</summary>
    public DeviceMatrix TokenEmbedding { get; }

    /// <summary>(vocab, dim): the token embedding itself when tied.</summary>
    public DeviceMatrix Classifier { get; }

    /// <summary>(dim,).</summary>
    public ArrayView<float> RmsFinalWeight { get; }

    public Layer[] Layers { get; }

    public long Bytes { get; private set; }

    /// <summary>The format of the large matrices (what decode streams), e.g. "f16".</summary>
    public string Describe() => string.Join("/", Layers.SelectMany(l => l.Wqkv.Formats).Concat(Layers.Select(l => l.W2.Format)).Distinct()).ToLowerInvariant();

    private DeviceMatrix Own(DeviceMatrix m)
    {
        _owned.Add(m);
        Bytes += m.Bytes;
        return m;
    }

    private ArrayView<float> Vector(Accelerator a, TensorView t)
    {
        var values = t.ToFloatArray();
        var buffer = a.Allocate1D(values);
        _owned.Add(buffer);
        Bytes += buffer.LengthInBytes;
        return buffer.View;
    }

    private ArrayView<float>? Optional(Accelerator a, TensorView? t) => t is null ? null : Vector(a, t);

    /// <summary>[Bq; Bk; Bv] as one vector matching Wqkv's rows (a missing part is zeros), or null without biases.</summary>
    private ArrayView<float>? StackedBias(Accelerator a, LayerWeights l)
    {
        if (l.Bq is null && l.Bk is null && l.Bv is null) return null;
        float[] Part(TensorView? b, TensorView w) => b?.ToFloatArray() ?? new float[w.Rows];
        var values = Part(l.Bq, l.Wq).Concat(Part(l.Bk, l.Wk)).Concat(Part(l.Bv, l.Wv)).ToArray();
        var buffer = a.Allocate1D(values);
        _owned.Add(buffer);
        Bytes += buffer.LengthInBytes;
        return buffer.View;
    }

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }

    /// <summary>One transformer block (llama2.c names; Wqkv and W13 stacked), with the optional tensors of the other families.</summary>
    public sealed record Layer(ArrayView<float> RmsAttWeight, DeviceMatrix Wqkv, DeviceMatrix Wo, ArrayView<float> RmsFfnWeight, DeviceMatrix W13, DeviceMatrix W2)
    {
        /// <summary>(q_dim + 2 kv_dim,): qwen2's Q/K/V biases.</summary>
        public ArrayView<float>? Bqkv { get; init; }

        /// <summary>(head_dim,): per-head RMSNorm weights of q and k (qwen3, gemma3).</summary>
        public ArrayView<float>? QNorm { get; init; }

        public ArrayView<float>? KNorm { get; init; }

        /// <summary>(dim,): RMSNorm of the attention output and of the FFN output before the residual adds (gemma2/3).</summary>
        public ArrayView<float>? PostAttentionNorm { get; init; }

        public ArrayView<float>? PostFeedForwardNorm { get; init; }
    }
}
