using System.Buffers.Binary;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Llama2c;

/// <summary>
/// Reads a llama2.c (run.c) checkpoint in place: a 7 x int32 header (dim, hidden_dim, n_layers, n_heads,
/// n_kv_heads, vocab_size, seq_len; negative vocab_size = separate classifier), then f32 weights in run.c order,
/// the legacy freq_cis tables (skipped), and the classifier when it is not shared.
/// </summary>
public static unsafe class Llama2cCheckpoint
{
    private const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Binds the checkpoint's weights in place; the mapping must outlive them.</summary>
    public static (LlamaConfig Config, LlamaWeights Weights) Read(MappedFile map)
    {
        if (map.Length < HeaderBytes)
            throw new ModelFormatException($"file too short for a llama2.c header ({map.Length} of {HeaderBytes} bytes)", map.Length, map.Path);
        var header = map.Span(0, HeaderBytes).ToArray();
        int H(int i) => BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(i * 4));
        int dim = H(0), hidden = H(1), layers = H(2), heads = H(3), kvHeads = H(4), vocab = H(5), seqLen = H(6);
        if (H(0) == 0x616b3432)
            throw new ModelFormatException("llama2.c versioned export (magic 'ak42') is not supported; export with the legacy format", 0, map.Path);

        var shared = vocab > 0;
        vocab = Math.Abs(vocab);
        const int limit = 1 << 20;
        foreach (var (v, name, at) in new[] { (dim, "dim", 0), (hidden, "hidden_dim", 4), (layers, "n_layers", 8), (heads, "n_heads", 12), (kvHeads, "n_kv_heads", 16), (vocab, "vocab_size", 20), (seqLen, "seq_len", 24) })
        {
            if (v <= 0 || v > limit) throw new ModelFormatException($"llama2.c header field {name} = {v} is out of range", at, map.Path);
        }
        if (dim % heads != 0) throw new ModelFormatException($"n_heads {heads} does not divide dim {dim}", 12, map.Path);

        var config = new LlamaConfig
        {
            ContextLength = seqLen,
            EmbeddingLength = dim,
            BlockCount = layers,
            FeedForwardLength = hidden,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            VocabSize = vocab,
            RopeDimensionCount = dim / heads,
            TiedOutput = shared,
        }.Validate(map.Path, 0);

        long offset = HeaderBytes;
        TensorView Next(string name, params long[] shape)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var bytes = count * sizeof(float);
            if (offset + bytes > map.Length)
                throw new ModelFormatException($"file truncated in tensor {name} (needs {bytes} bytes, {map.Length - offset} left)", offset, map.Path);
            var view = new TensorView(name, GgmlType.F32, shape, map.Pointer + offset, bytes);
            offset += bytes;
            return view;
        }

        // run.c stores each kind of weight for all layers together; slice them per layer.
        TensorView[] PerLayer(string kind, Func<int, string> name, params long[] shape)
        {
            var all = Next(kind, [.. shape, layers]);
            var each = all.ByteCount / layers;
            return Enumerable.Range(0, layers).Select(l => new TensorView(name(l), GgmlType.F32, shape, all.Data + l * each, each)).ToArray();
        }

        long kvDim = config.KvDim;
        var embedding = Next(LlamaTensorNames.TokenEmbedding, dim, vocab);
        var rmsAtt = PerLayer("rms_att_weight", LlamaTensorNames.AttnNorm, dim);
        var wq = PerLayer("wq", LlamaTensorNames.Wq, dim, dim);
        var wk = PerLayer("wk", LlamaTensorNames.Wk, dim, kvDim);
        var wv = PerLayer("wv", LlamaTensorNames.Wv, dim, kvDim);
        var wo = PerLayer("wo", LlamaTensorNames.Wo, dim, dim);
        var rmsFfn = PerLayer("rms_ffn_weight", LlamaTensorNames.FfnNorm, dim);
        var w1 = PerLayer("w1", LlamaTensorNames.W1, dim, hidden);
        var w2 = PerLayer("w2", LlamaTensorNames.W2, hidden, dim);
        var w3 = PerLayer("w3", LlamaTensorNames.W3, dim, hidden);
        var rmsFinal = Next(LlamaTensorNames.OutputNorm, dim);
        TensorView classifier = embedding;
        if (!shared)
        {
            Next("freq_cis_real", (long)seqLen * config.HeadDim / 2);
            Next("freq_cis_imag", (long)seqLen * config.HeadDim / 2);
            classifier = Next(LlamaTensorNames.Output, dim, vocab);
        }

        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            RmsFinalWeight = rmsFinal,
            Classifier = classifier,
            Layers = Enumerable.Range(0, layers).Select(l => new LayerWeights
            {
                RmsAttWeight = rmsAtt[l], Wq = wq[l], Wk = wk[l], Wv = wv[l], Wo = wo[l],
                RmsFfnWeight = rmsFfn[l], W1 = w1[l], W2 = w2[l], W3 = w3[l],
            }).ToArray(),
        };
        return (config, weights);
    }
}
