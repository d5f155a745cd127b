using System.Runtime.InteropServices;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Quantization;

/// <summary>
/// A tensor re-encoded into another type in native memory this object owns, viewed like a file's tensor, so a model
/// variant (one tensor quantized, the rest in place) can run without writing a file.
/// </summary>
public sealed unsafe class EncodedTensor : IDisposable
{
    private byte* _data;

    private EncodedTensor(TensorView view, byte* data)
    {
        View = view;
        _data = data;
    }

    /// <summary>The re-encoded tensor (valid until disposed).</summary>
    public TensorView View { get; }

    /// <summary>Encodes <paramref name="source"/> (any readable type) as <paramref name="type"/>, rows in parallel.</summary>
    public static EncodedTensor Encode(TensorView source, GgmlType type, int threads = 0)
    {
        var columns = checked((int)source.Columns);
        var rows = source.Rows;
        var rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        var total = rowBytes * rows;
        var data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, total), 64);
        try
        {
            Parallel.For(0L, rows, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : -1 }, () => new float[columns], (row, _, values) =>
            {
                source.ReadRows(row, 1, values);
                Quantize.Row(type, values, new Span<byte>(data + row * rowBytes, (int)rowBytes));
                return values;
            }, _ => { });
        }
        catch
        {
            NativeMemory.AlignedFree(data);
            throw;
        }
        return new EncodedTensor(new TensorView(source.Name, type, source.Shape, data, total), data);
    }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}

/// <summary>Model variants with some tensors swapped for others of the same name and shape.</summary>
public static class WeightVariants
{
    /// <summary>
    /// <paramref name="weights"/> with each tensor named in <paramref name="replacements"/> replaced; a tied classifier
    /// stays tied to the (replaced) embedding.
    /// </summary>
    public static LlamaWeights Replace(LlamaWeights weights, IReadOnlyDictionary<string, TensorView> replacements)
    {
        TensorView Pick(TensorView t)
        {
            if (!replacements.TryGetValue(t.Name, out var r)) return t;
            if (!r.Shape.SequenceEqual(t.Shape)) throw new ArgumentException($"replacement for {t.Name} has shape [{string.Join(", ", r.Shape)}], expected [{string.Join(", ", t.Shape)}]", nameof(replacements));
            return r;
        }

        var embedding = Pick(weights.TokenEmbedding);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            RmsFinalWeight = Pick(weights.RmsFinalWeight),
            Classifier = ReferenceEquals(weights.Classifier, weights.TokenEmbedding) ? embedding : Pick(weights.Classifier),
            RopeFrequencyFactors = weights.RopeFrequencyFactors,
            Layers = weights.Layers.Select(l => new LayerWeights
            {
                RmsAttWeight = Pick(l.RmsAttWeight),
                Wq = Pick(l.Wq),
                Wk = Pick(l.Wk),
                Wv = Pick(l.Wv),
                Wo = Pick(l.Wo),
                RmsFfnWeight = Pick(l.RmsFfnWeight),
                W1 = Pick(l.W1),
                W2 = Pick(l.W2),
                W3 = Pick(l.W3),
            }).ToArray(),
        };
    }
}
