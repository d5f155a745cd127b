using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu.Tests.Families;

/// <summary>
/// Small configs with each family's features switched on (3 layers, width 48, vocabulary 512), for the runner-vs-naive
/// tests: head sizes apart from width / heads, partial RoPE, sliding windows (5 tokens) shorter than the prompts,
/// soft caps low enough to bite, per-layer head counts and widths.
/// </summary>
public static class FamilyModels
{
    public static TheoryData<string> Names() => new(["llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3", "deci"]);

    public static InMemoryModel Build(string name, int seed = 7)
    {
        var (config, features) = Describe(name);
        return new InMemoryModel(config.Validate(), features, seed);
    }

    public static (LlamaConfig Config, ModelFeatures Features) Describe(string name)
    {
        var plain = new LlamaConfig
        {
            EmbeddingLength = 48, BlockCount = 3, HeadCount = 4, KvHeadCount = 2, FeedForwardLength = 80,
            VocabSize = 512, ContextLength = 256, RopeDimensionCount = 12,
        };
        return name switch
        {
            // Llama 3 frequency factors, a large base.
            "llama" => (plain with { RopeBase = 500000f }, new ModelFeatures(RopeFactors: true)),
            "qwen2" => (plain with { Architecture = ModelArchitecture.Qwen2, RopeStyle = RopeStyle.Neox, RopeBase = 1e6f }, new ModelFeatures(Biases: true)),
            // Head size 16: q_dim 64 differs from the width 48.
            "qwen3" => (plain with { Architecture = ModelArchitecture.Qwen3, RopeStyle = RopeStyle.Neox, HeadDim = 16, RopeDimensionCount = 16 }, new ModelFeatures(QkNorms: true)),
            // Partial rotary: 8 of 12 dims.
            "phi3" => (plain with { Architecture = ModelArchitecture.Phi3, RopeStyle = RopeStyle.Neox, KvHeadCount = 4, RopeDimensionCount = 8 }, new ModelFeatures()),
            "gemma2" => (plain with
            {
                Architecture = ModelArchitecture.Gemma2, RopeStyle = RopeStyle.Neox, HeadDim = 16, RopeDimensionCount = 16,
                EmbeddingScale = MathF.Sqrt(48), Activation = FeedForwardActivation.GeluTanh, AttentionScale = 1f / MathF.Sqrt(24),
                AttentionLogitSoftcap = 5f, FinalLogitSoftcap = 3f, SlidingWindow = 5, SlidingWindowLayers = [true, false, true], TiedOutput = true,
            }, new ModelFeatures(PostNorms: true)),
            "gemma3" => (plain with
            {
                Architecture = ModelArchitecture.Gemma3, RopeStyle = RopeStyle.Neox, HeadDim = 16, RopeDimensionCount = 16, RopeBase = 1e6f,
                LocalRopeBase = 10000f, EmbeddingScale = MathF.Sqrt(48), Activation = FeedForwardActivation.GeluTanh,
                SlidingWindow = 5, SlidingWindowLayers = [true, true, false], TiedOutput = true,
            }, new ModelFeatures(QkNorms: true, PostNorms: true)),
            // Per layer: query heads 4/2/4, KV heads 2/1/4, feed-forward 80/48/112 (the scalars are the maxima).
            "deci" => (plain with
            {
                Architecture = ModelArchitecture.Deci, KvHeadCount = 4, FeedForwardLength = 112,
                LayerHeadCounts = [4, 2, 4], LayerKvHeadCounts = [2, 1, 4], LayerFeedForwardLengths = [80, 48, 112],
            }, new ModelFeatures(RopeFactors: true)),
            _ => throw new ArgumentException($"no family model named {name}", nameof(name)),
        };
    }
}
