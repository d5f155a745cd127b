using System.Runtime.InteropServices;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Cpu.Tests.Families;

/// <summary>
/// A model whose f32 weights live in native memory (<see cref="ModelFile.FromWeights"/>), built from a config and
/// switches for the optional tensors: random matrices (std 0.3, so attention is far from uniform and errors show),
/// norm weights around 1 (not all 1, so norms are exercised), biases around 0. Disposing frees the memory.
/// </summary>
public sealed unsafe class InMemoryModel : IDisposable
{
    private readonly List<nint> _allocations = [];
    private readonly Random _rng;

    public InMemoryModel(LlamaConfig config, ModelFeatures features, int seed = 7)
    {
        _rng = new Random(seed);
        var c = config;
        int dim = c.EmbeddingLength, hd = c.HeadDim;
        var layers = new LayerWeights[c.BlockCount];
        for (var l = 0; l < layers.Length; l++)
        {
            int qDim = c.HeadCountOf(l) * hd, kvDim = c.KvDimOf(l), ff = c.FeedForwardLengthOf(l);
            var p = $"blk.{l}.";
            layers[l] = new LayerWeights
            {
                RmsAttWeight = Norm(p + "attn_norm.weight", dim),
                Wq = Matrix(p + "attn_q.weight", dim, qDim),
                Wk = Matrix(p + "attn_k.weight", dim, kvDim),
                Wv = Matrix(p + "attn_v.weight", dim, kvDim),
                Wo = Matrix(p + "attn_output.weight", qDim, dim),
                RmsFfnWeight = Norm(p + "ffn_norm.weight", dim),
                W1 = Matrix(p + "ffn_gate.weight", dim, ff),
                W2 = Matrix(p + "ffn_down.weight", ff, dim),
                W3 = Matrix(p + "ffn_up.weight", dim, ff),
                Bq = features.Biases ? Tensor(p + "attn_q.bias", [qDim], 0, 0.3) : null,
                Bk = features.Biases ? Tensor(p + "attn_k.bias", [kvDim], 0, 0.3) : null,
                Bv = features.Biases ? Tensor(p + "attn_v.bias", [kvDim], 0, 0.3) : null,
                QNorm = features.QkNorms ? Norm(p + "attn_q_norm.weight", hd) : null,
                KNorm = features.QkNorms ? Norm(p + "attn_k_norm.weight", hd) : null,
                PostAttentionNorm = features.PostNorms ? Norm(p + "post_attention_norm.weight", dim) : null,
                PostFeedForwardNorm = features.PostNorms ? Norm(p + "post_ffw_norm.weight", dim) : null,
            };
        }
        var embedding = Matrix("token_embd.weight", dim, c.VocabSize);
        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            RmsFinalWeight = Norm("output_norm.weight", dim),
            Classifier = c.TiedOutput ? embedding : Matrix("output.weight", dim, c.VocabSize),
            // Llama 3 style factors between 1 and 8, so scaled and unscaled frequencies differ visibly.
            RopeFrequencyFactors = features.RopeFactors ? Tensor("rope_freqs.weight", [c.RopeDimensionCount / 2], 4.5, 2) : null,
            Layers = layers,
        };
        Model = ModelFile.FromWeights("in-memory", c, weights, Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, 512));
    }

    public ModelFile Model { get; }

    private TensorView Matrix(string name, int columns, int rows) => Tensor(name, [columns, rows], 0, 0.3);

    private TensorView Norm(string name, int size) => Tensor(name, [size], 1, 0.2);

    /// <summary>Values mean + spread * N(0, 1) (uniform in ±spread·√3 for factors, kept positive).</summary>
    private TensorView Tensor(string name, long[] shape, double mean, double spread)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var data = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        _allocations.Add((nint)data);
        for (long i = 0; i < n; i++)
        {
            var u1 = 1.0 - _rng.NextDouble();
            var normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * _rng.NextDouble());
            data[i] = (float)(mean + spread * normal);
            if (name.StartsWith("rope_freqs", StringComparison.Ordinal)) data[i] = (float)Math.Clamp(mean + spread * (2 * _rng.NextDouble() - 1), 1, 8);
        }
        return new TensorView(name, GgmlType.F32, shape, (byte*)data, n * sizeof(float));
    }

    public void Dispose()
    {
        Model.Dispose();
        foreach (var a in _allocations) NativeMemory.AlignedFree((void*)a);
        _allocations.Clear();
    }
}

/// <summary>Which optional tensors an <see cref="InMemoryModel"/> has.</summary>
public sealed record ModelFeatures(bool Biases = false, bool QkNorms = false, bool PostNorms = false, bool RopeFactors = false);
