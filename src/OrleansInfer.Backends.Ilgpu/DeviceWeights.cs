using ILGPU;
using ILGPU.Runtime;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The model's weights on the device, uploaded once. Products that share an input are stacked into one matrix so
/// one launch computes them: Wqkv = [Wq; Wk; Wv] (dim + 2 kv_dim rows; one launch per part when their types differ),
/// W13 = [W1; W3] (2 hidden rows, the SwiGLU pair, always one format). Norm weights are f32.
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
                Own(DeviceMatrix.Upload(a, l.W2)))).ToArray();
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

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }

    /// <summary>One transformer block (llama2.c names; Wqkv and W13 stacked).</summary>
    public sealed record Layer(ArrayView<float> RmsAttWeight, DeviceMatrix Wqkv, DeviceMatrix Wo, ArrayView<float> RmsFfnWeight, DeviceMatrix W13, DeviceMatrix W2);
}
