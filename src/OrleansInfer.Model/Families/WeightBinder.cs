using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Families;

/// <summary>
/// Binds a GGUF file's tensors to <see cref="LlamaWeights"/> for any family: every tensor llama.cpp requires must be
/// there with its shape, and every tensor in the file must be one we use (a bias or expert tensor we would ignore
/// means numbers llama.cpp would not give, so it is an error). phi3's fused attn_qkv and ffn_up become row slices.
/// </summary>
public static class WeightBinder
{
    public static LlamaWeights Bind(GgufFile gguf, LlamaConfig config)
    {
        var arch = config.Architecture;
        var separateQkv = arch.FusesQkvAndGateUp() && !gguf.TryGetTensor(LlamaTensorNames.Qkv(0), out _);
        var views = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        foreach (var (name, shape) in LlamaTensorNames.Expected(config, RopeTensors.None, separateQkv))
            views[name] = Required(gguf, name, shape);

        // llama.cpp loads rope_freqs for llama and (without LongRoPE) deci, rope_factors_long/short for LongRoPE; each optional.
        var ropeShape = new long[] { config.RopeDimensionCount / 2 };
        var longRope = config.RopeScaling.Type == RopeScalingType.LongRope;
        var freqs = arch is ModelArchitecture.Llama or ModelArchitecture.Deci && !longRope ? Optional(gguf, LlamaTensorNames.RopeFrequencies, ropeShape) : null;
        var ropeLong = longRope ? Optional(gguf, LlamaTensorNames.RopeFactorsLong, ropeShape) : null;
        var ropeShort = longRope ? Optional(gguf, LlamaTensorNames.RopeFactorsShort, ropeShape) : null;

        var used = new HashSet<string>(views.Keys, StringComparer.Ordinal);
        foreach (var t in new[] { freqs, ropeLong, ropeShort }) if (t is not null) used.Add(t.Name);
        if (gguf.Tensors.FirstOrDefault(t => !used.Contains(t.Name)) is { } extra)
            throw new ModelFormatException($"tensor '{extra.Name}' is not used by the {arch.Name()} architecture as we run it (an unsupported feature)", gguf.DataOffset + (long)extra.Offset, gguf.Path);

        var embedding = views[LlamaTensorNames.TokenEmbedding];
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            RmsFinalWeight = views[LlamaTensorNames.OutputNorm],
            Classifier = config.TiedOutput ? embedding : views[LlamaTensorNames.Output],
            RopeFrequencyFactors = freqs,
            RopeFactorsLong = ropeLong,
            RopeFactorsShort = ropeShort,
            Layers = Enumerable.Range(0, config.BlockCount).Select(l => Layer(config, views, l, separateQkv)).ToArray(),
        };
    }

    private static LayerWeights Layer(LlamaConfig c, Dictionary<string, TensorView> views, int l, bool separateQkv)
    {
        var arch = c.Architecture;
        TensorView? Get(string name) => views.GetValueOrDefault(name);
        TensorView wq, wk, wv, w1, w3;
        if (arch.FusesQkvAndGateUp())
        {
            long q = c.HeadCountOf(l) * c.HeadDim, kv = c.KvDimOf(l), h = c.FeedForwardLengthOf(l);
            if (separateQkv)
            {
                (wq, wk, wv) = (views[LlamaTensorNames.Wq(l)], views[LlamaTensorNames.Wk(l)], views[LlamaTensorNames.Wv(l)]);
            }
            else
            {
                var qkv = views[LlamaTensorNames.Qkv(l)];
                wq = qkv.RowSlice(LlamaTensorNames.Slice(qkv.Name, "q"), 0, q);
                wk = qkv.RowSlice(LlamaTensorNames.Slice(qkv.Name, "k"), q, kv);
                wv = qkv.RowSlice(LlamaTensorNames.Slice(qkv.Name, "v"), q + kv, kv);
            }
            // HF's Phi3MLP: gate, up = gate_up.chunk(2); ggml_swiglu takes the first half as the gate too.
            var gateUp = views[LlamaTensorNames.GateUp(l)];
            w1 = gateUp.RowSlice(LlamaTensorNames.Slice(gateUp.Name, "gate"), 0, h);
            w3 = gateUp.RowSlice(LlamaTensorNames.Slice(gateUp.Name, "up"), h, h);
        }
        else
        {
            (wq, wk, wv) = (views[LlamaTensorNames.Wq(l)], views[LlamaTensorNames.Wk(l)], views[LlamaTensorNames.Wv(l)]);
            (w1, w3) = (views[LlamaTensorNames.W1(l)], views[LlamaTensorNames.W3(l)]);
        }

        return new LayerWeights
        {
            RmsAttWeight = views[LlamaTensorNames.AttnNorm(l)],
            Wq = wq,
            Wk = wk,
            Wv = wv,
            Wo = views[LlamaTensorNames.Wo(l)],
            RmsFfnWeight = views[LlamaTensorNames.FfnNorm(l)],
            W1 = w1,
            W2 = views[LlamaTensorNames.W2(l)],
            W3 = w3,
            Bq = Get(LlamaTensorNames.Bq(l)),
            Bk = Get(LlamaTensorNames.Bk(l)),
            Bv = Get(LlamaTensorNames.Bv(l)),
            QNorm = Get(LlamaTensorNames.QNorm(l)),
            KNorm = Get(LlamaTensorNames.KNorm(l)),
            PostAttentionNorm = Get(LlamaTensorNames.PostAttentionNorm(l)),
            PostFeedForwardNorm = Get(LlamaTensorNames.PostFeedForwardNorm(l)),
        };
    }

    private static TensorView Required(GgufFile gguf, string name, long[] shape) =>
        Optional(gguf, name, shape) ?? throw new ModelFormatException($"required tensor '{name}' is missing", gguf.DataOffset, gguf.Path);

    private static TensorView? Optional(GgufFile gguf, string name, long[] shape)
    {
        if (!gguf.TryGetTensor(name, out var info)) return null;
        if (!info.Shape.SequenceEqual(shape))
            throw new ModelFormatException($"tensor '{name}' has shape [{info.ShapeText}], expected [{string.Join(" x ", shape)}]", gguf.DataOffset + (long)info.Offset, gguf.Path);
        return gguf.View(info);
    }
}
