using System.Runtime.InteropServices;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.GpuCheck.Families;

/// <summary>Which optional tensors a <see cref="FamilyModel"/> gets.</summary>
public sealed record FamilyTensors
{
    /// <summary>qwen2's Q/K/V biases.</summary>
    public bool Biases { get; init; }

    /// <summary>qwen3 / gemma3 per-head Q and K RMSNorm weights.</summary>
    public bool QkNorms { get; init; }

    /// <summary>gemma2/3 post-attention and post-FFN norms.</summary>
    public bool PostNorms { get; init; }

    /// <summary>llama3-style rope_freqs factors (one per rotated pair).</summary>
    public bool RopeFactors { get; init; }

    /// <summary>Type of the weight matrices (norms, biases and factors stay f32).</summary>
    public GgmlType MatrixType { get; init; } = GgmlType.F32;
}

/// <summary>
/// A random model of any family held in native memory (<see cref="ModelFile.FromWeights"/>): matrices with small
/// Gaussian weights, norm weights around 1 (not all 1, so every norm matters), per-layer shapes from the config.
/// </summary>
public sealed unsafe class FamilyModel : IDisposable
{
    private readonly List<nint> _memory = [];
    private readonly Random _rng;
    private readonly bool _decoded;

    /// <param name="decoded">
    /// Matrices encoded as <see cref="FamilyTensors.MatrixType"/> and decoded back into f32 tensors: the same weights for
    /// a runner whose quantized products would quantize the activations too (the CPU backend's Q8_0 path, as ggml's).
    /// </param>
    public FamilyModel(LlamaConfig c, FamilyTensors t, int seed, bool decoded = false)
    {
        _rng = new Random(seed);
        _decoded = decoded;
        c.Validate();
        int dim = c.EmbeddingLength, hd = c.HeadDim;
        var embedding = Matrix("token_embd.weight", dim, c.VocabSize, GgmlType.F32, 0.5f);
        var layers = new LayerWeights[c.BlockCount];
        for (var l = 0; l < layers.Length; l++)
        {
            int qd = c.HeadCountOf(l) * hd, kvd = c.KvDimOf(l), ffn = c.FeedForwardLengthOf(l);
            layers[l] = new LayerWeights
            {
                RmsAttWeight = Norm($"blk.{l}.attn_norm.weight", dim),
                Wq = Matrix($"blk.{l}.attn_q.weight", dim, qd, t.MatrixType),
                Wk = Matrix($"blk.{l}.attn_k.weight", dim, kvd, t.MatrixType),
                Wv = Matrix($"blk.{l}.attn_v.weight", dim, kvd, t.MatrixType),
                Wo = Matrix($"blk.{l}.attn_output.weight", qd, dim, t.MatrixType),
                RmsFfnWeight = Norm($"blk.{l}.ffn_norm.weight", dim),
                W1 = Matrix($"blk.{l}.ffn_gate.weight", dim, ffn, t.MatrixType),
                W2 = Matrix($"blk.{l}.ffn_down.weight", ffn, dim, t.MatrixType),
                W3 = Matrix($"blk.{l}.ffn_up.weight", dim, ffn, t.MatrixType),
                Bq = t.Biases ? Vector($"blk.{l}.attn_q.bias", qd, 0f, 0.3f) : null,
                Bk = t.Biases ? Vector($"blk.{l}.attn_k.bias", kvd, 0f, 0.3f) : null,
                Bv = t.Biases ? Vector($"blk.{l}.attn_v.bias", kvd, 0f, 0.3f) : null,
                QNorm = t.QkNorms ? Norm($"blk.{l}.attn_q_norm.weight", hd) : null,
                KNorm = t.QkNorms ? Norm($"blk.{l}.attn_k_norm.weight", hd) : null,
                PostAttentionNorm = t.PostNorms ? Norm($"blk.{l}.post_attention_norm.weight", dim) : null,
                PostFeedForwardNorm = t.PostNorms ? Norm($"blk.{l}.post_ffw_norm.weight", dim) : null,
            };
        }
        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            RmsFinalWeight = Norm("output_norm.weight", dim),
            Classifier = c.TiedOutput ? embedding : Matrix("output.weight", dim, c.VocabSize, t.MatrixType),
            RopeFrequencyFactors = t.RopeFactors ? Vector("rope_freqs.weight", c.RopeDimensionCount / 2, 1f, 1f, positive: true) : null,
            Layers = layers,
        };
        Model = ModelFile.FromWeights("family-" + c.Architecture.Name(), c, weights, Tokens(c.VocabSize));
    }

    public ModelFile Model { get; }

    /// <summary>A made-up vocabulary of the model's size (the GPU machine has no tokenizer files; nothing is tokenized).</summary>
    private static Vocabulary Tokens(int count) => new()
    {
        Kind = TokenizerKind.SentencePiece,
        Tokens = Enumerable.Range(0, count).Select(i => $"t{i}").ToArray(),
        Scores = new float[count],
        Types = Enumerable.Repeat(TokenType.Normal, count).ToArray(),
    };

    private TensorView Matrix(string name, int cols, int rows, GgmlType type, float std = 0.15f)
    {
        var values = Gaussian(cols * rows, std);
        var rowBytes = GgmlTypeInfo.ByteCount(type, cols);
        var data = Allocate(rowBytes * rows);
        for (var r = 0; r < rows; r++) Quantize.Row(type, values.AsSpan(r * cols, cols), new Span<byte>(data + r * rowBytes, (int)rowBytes));
        var view = new TensorView(name, type, [cols, rows], data, rowBytes * rows);
        if (!_decoded || type == GgmlType.F32) return view;
        var f32 = Allocate(4L * cols * rows);
        view.ToFloatArray().CopyTo(new Span<float>(f32, cols * rows));
        return new TensorView(name, GgmlType.F32, [cols, rows], f32, 4L * cols * rows);
    }

    private TensorView Norm(string name, int size) => Vector(name, size, 1f, 0.2f);

    private TensorView Vector(string name, int size, float mean, float std, bool positive = false)
    {
        var values = Gaussian(size, std).Select(v => positive ? mean + Math.Abs(v) : mean + v).ToArray();
        var data = Allocate(4L * size);
        values.CopyTo(new Span<float>(data, size));
        return new TensorView(name, GgmlType.F32, [size], data, 4L * size);
    }

    private float[] Gaussian(int count, float std)
    {
        var v = new float[count];
        for (var i = 0; i < count; i++) v[i] = (float)(std * Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble()));
        return v;
    }

    private byte* Allocate(long bytes)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, bytes));
        _memory.Add((nint)p);
        return p;
    }

    public void Dispose()
    {
        foreach (var p in _memory) NativeMemory.Free((void*)p);
        _memory.Clear();
    }
}
