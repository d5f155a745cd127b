using System.Runtime.CompilerServices;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Families;

/// <summary>RopeTable against values computed by hand from ggml's rope_yarn and llama.cpp's parameters.</summary>
public sealed class RopeTableTests
{
    private static readonly List<float[]> Pinned = [];

    private static unsafe TensorView F32(string name, float[] values)
    {
        var pinned = GC.AllocateArray<float>(Math.Max(1, values.Length), pinned: true);
        values.CopyTo(pinned, 0);
        lock (Pinned) Pinned.Add(pinned);
        return new TensorView(name, GgmlType.F32, [values.Length], (byte*)Unsafe.AsPointer(ref pinned[0]), values.Length * sizeof(float));
    }

    private static LlamaWeights Weights(float[]? freqs = null, float[]? ropeLong = null, float[]? ropeShort = null)
    {
        var dummy = F32("dummy", [0f]);
        return new LlamaWeights
        {
            TokenEmbedding = dummy,
            RmsFinalWeight = dummy,
            Classifier = dummy,
            Layers = [],
            RopeFrequencyFactors = freqs is null ? null : F32(LlamaTensorNames.RopeFrequencies, freqs),
            RopeFactorsLong = ropeLong is null ? null : F32(LlamaTensorNames.RopeFactorsLong, ropeLong),
            RopeFactorsShort = ropeShort is null ? null : F32(LlamaTensorNames.RopeFactorsShort, ropeShort),
        };
    }

    private static LlamaConfig Llama(RopeScaling? scaling = null, int ropeDims = 32) => new()
    {
        ContextLength = 8192, EmbeddingLength = 128, BlockCount = 7, FeedForwardLength = 256, HeadCount = 4, KvHeadCount = 2,
        VocabSize = 512, RopeDimensionCount = ropeDims, RopeScaling = scaling ?? RopeScaling.None,
    };

    private static float Theta(int pair, int dims = 32, float ropeBase = 10000f) => 1f / MathF.Pow(ropeBase, 2 * pair / (float)dims);

    [Fact]
    public void UnscaledFrequenciesAreTheBasePowers()
    {
        var t = RopeTable.For(Llama(), Weights(), 0);
        Assert.Equal(16, t.Frequencies.Length);
        Assert.Equal(1f, t.Frequencies[0]);
        Assert.Equal(0.01f, t.Frequencies[8], 1e-9f); // 10000^(-16/32)
        Assert.Equal(Enumerable.Range(0, 16).Select(i => Theta(i)).ToArray(), t.Frequencies);
        Assert.Equal(1f, t.Scale);
    }

    [Fact]
    public void PartialRotaryHasOneFrequencyPerRotatedPair()
    {
        var t = RopeTable.For(Llama(ropeDims: 24) with { Architecture = ModelArchitecture.Phi3 }, Weights(), 0);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => Theta(i, 24)).ToArray(), t.Frequencies);
    }

    [Fact]
    public void Llama3FactorsDivideTheFrequencies()
    {
        var factors = Enumerable.Range(0, 16).Select(i => i < 8 ? 1f : 8f).ToArray();
        var t = RopeTable.For(Llama(), Weights(freqs: factors), 0);
        Assert.Equal(Theta(3), t.Frequencies[3]);
        Assert.Equal(Theta(12) / 8f, t.Frequencies[12]);
        Assert.Equal(1f, t.Scale);
    }

    [Fact]
    public void LinearScalingDividesEveryFrequencyByTheFactor()
    {
        var t = RopeTable.For(Llama(new RopeScaling { Type = RopeScalingType.Linear, Factor = 4f }), Weights(), 0);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 0.25f * Theta(i)).ToArray(), t.Frequencies);
        Assert.Equal(1f, t.Scale);
    }

    [Fact]
    public void YarnCorrectionDimsOfA2048ContextAre4And11()
    {
        // 32 * ln(2048 / (32 * 2 pi)) / (2 ln 10000) = 4.032 -> floor 4; with beta_slow 1: 10.053 -> ceil 11.
        Assert.Equal((4f, 11f), RopeTable.YarnCorrectionDims(32, 2048, 10000f, 32f, 1f));
        // The low bound is floored at 0 (32 ln(100 / 64 pi) < 0), the high one capped at n_dims - 1 (ceil 8.2 -> 7).
        Assert.Equal((0f, 5f), RopeTable.YarnCorrectionDims(32, 100, 10000f, 32f, 1f));
        Assert.Equal((6f, 7f), RopeTable.YarnCorrectionDims(8, 1_000_000_000, 10000f, 32f, 1f));
    }

    [Fact]
    public void YarnExtrapolatesFastPairsInterpolatesSlowOnesAndRampsBetween()
    {
        var scaling = new RopeScaling { Type = RopeScalingType.Yarn, Factor = 4f, OriginalContextLength = 2048 };
        var t = RopeTable.For(Llama(scaling), Weights(), 0);
        Assert.Equal(Theta(2), t.Frequencies[2]);            // below the ramp: theta (ramp 1)
        Assert.Equal(Theta(4), t.Frequencies[4]);            // at the low bound: still theta
        Assert.Equal(0.25f * Theta(13), t.Frequencies[13]);  // above 11: theta / factor
        // Pair 7: y = (7 - 4) / 7, ramp 4/7: theta * (1/4 * 3/7 + 4/7).
        Assert.Equal(Theta(7) * (0.25 * 3 / 7 + 4.0 / 7), t.Frequencies[7], 1e-7);
        Assert.Equal(1.1386294f, t.Scale, 1e-6f);            // 1 + 0.1 ln 4
    }

    [Fact]
    public void LongRopeTakesLongFactorsOnlyBeyondTheOriginalContext()
    {
        var scaling = new RopeScaling { Type = RopeScalingType.LongRope, OriginalContextLength = 1024, AttentionFactor = 1.0954452f };
        var config = Llama(scaling, ropeDims: 24) with { Architecture = ModelArchitecture.Phi3, ContextLength = 4096 };
        var longF = Enumerable.Range(0, 12).Select(i => 2f + i).ToArray();
        var shortF = Enumerable.Range(0, 12).Select(i => 1f + i / 100f).ToArray();
        var w = Weights(ropeLong: longF, ropeShort: shortF);

        var beyond = RopeTable.For(config, w, 0, contextLength: 2048);
        Assert.Equal(Theta(5, 24) / 7f, beyond.Frequencies[5]);
        Assert.Equal(1.0954452f, beyond.Scale); // sqrt(1 + ln 4 / ln 1024), from rope.scaling.attn_factor
        var within = RopeTable.For(config, w, 0, contextLength: 1024); // equal is not beyond (llama.cpp: n_ctx_seq > n_ctx_orig)
        Assert.Equal(Theta(5, 24) / 1.05f, within.Frequencies[5]);
        Assert.Equal(1.0954452f, within.Scale);
        var byDefault = RopeTable.For(config, w, 0); // the file's context, 4096
        Assert.Equal(beyond.Frequencies, byDefault.Frequencies);
    }

    [Fact]
    public void Gemma3WindowedLayersUseBase10000WithoutScaling()
    {
        var config = Llama(new RopeScaling { Type = RopeScalingType.Linear, Factor = 8f }) with
        {
            Architecture = ModelArchitecture.Gemma3, RopeBase = 1e6f, LocalRopeBase = 10000f, SlidingWindow = 8,
            SlidingWindowLayers = [true, true, true, true, true, false, true],
        };
        var local = RopeTable.For(config, Weights(), 0);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => Theta(i)).ToArray(), local.Frequencies);
        var global = RopeTable.For(config, Weights(), 5);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 0.125f * Theta(i, ropeBase: 1e6f)).ToArray(), global.Frequencies);
    }
}
