using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Synthesis;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Quantization;

public sealed class QuantizationRecipeTests
{
    /// <summary>stories260K's shape: rows of 64 and 172 are never whole 256-blocks, so every K-quant falls back.</summary>
    private static readonly LlamaConfig Stories260K = new()
    {
        EmbeddingLength = 64, BlockCount = 5, HeadCount = 8, KvHeadCount = 4, FeedForwardLength = 172,
        VocabSize = 512, ContextLength = 128, RopeDimensionCount = 8,
    };

    private static Dictionary<string, GgmlType> Types(LlamaConfig config, QuantizationMix mix) =>
        QuantizationRecipe.Choose(config, mix).ToDictionary(c => c.Name, c => c.Type);

    private static void Expect(Dictionary<string, GgmlType> types, string name, GgmlType expected, string mix) =>
        Assert.True(types[name] == expected, $"{mix}: expected {name} as {expected}, got {types[name]}");

    [Fact]
    public void UseMoreBitsPicksTheFirstAndLastEighthAndEveryThirdLayerBetween()
    {
        var picked = Enumerable.Range(0, 32).Where(l => QuantizationRecipe.UseMoreBits(l, 32)).ToArray();
        int[] expected = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        Assert.True(expected.SequenceEqual(picked), $"expected layers {string.Join(",", expected)}, got {string.Join(",", picked)}");
        Assert.Equal([2, 4], Enumerable.Range(0, 5).Where(l => QuantizationRecipe.UseMoreBits(l, 5)));
    }

    [Fact]
    public void Q4KMOnTiny256KeepsOutputAndTheUseMoreBitsLayersAtQ6K()
    {
        var types = Types(SyntheticPreset.Find("tiny256")!.Config, QuantizationMix.Q4_K_M);
        Expect(types, "token_embd.weight", GgmlType.Q4_K, "q4_k_m");
        Expect(types, "output.weight", GgmlType.Q6_K, "q4_k_m");
        Expect(types, "output_norm.weight", GgmlType.F32, "q4_k_m");
        Expect(types, "blk.0.attn_norm.weight", GgmlType.F32, "q4_k_m");
        Expect(types, "blk.0.attn_v.weight", GgmlType.Q4_K, "q4_k_m");
        Expect(types, "blk.1.attn_v.weight", GgmlType.Q6_K, "q4_k_m");
        Expect(types, "blk.0.ffn_down.weight", GgmlType.Q4_K, "q4_k_m");
        Expect(types, "blk.1.ffn_down.weight", GgmlType.Q6_K, "q4_k_m");
        foreach (var other in new[] { "attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up" })
            for (var l = 0; l < 2; l++) Expect(types, $"blk.{l}.{other}.weight", GgmlType.Q4_K, "q4_k_m");
    }

    [Fact]
    public void KQuantsFallBackOnStories260KRowsAsLlamaCppDoes()
    {
        var q4 = Types(Stories260K, QuantizationMix.Q4_K_M);
        Expect(q4, "token_embd.weight", GgmlType.Q5_0, "q4_k_m");         // q4_k on rows of 64
        Expect(q4, "output.weight", GgmlType.Q8_0, "q4_k_m");             // the classifier with rows not whole 256-blocks
        Expect(q4, "blk.0.attn_v.weight", GgmlType.Q5_0, "q4_k_m");
        Expect(q4, "blk.2.attn_v.weight", GgmlType.Q8_0, "q4_k_m");       // use_more_bits: q6_k, falling back to q8_0
        Expect(q4, "blk.4.attn_v.weight", GgmlType.Q8_0, "q4_k_m");
        Expect(q4, "blk.3.ffn_down.weight", GgmlType.F16, "q4_k_m");      // rows of 172: not even 32-blocks
        Expect(q4, "blk.3.ffn_gate.weight", GgmlType.Q5_0, "q4_k_m");

        var q5 = Types(Stories260K, QuantizationMix.Q5_K_M);
        Expect(q5, "blk.0.attn_q.weight", GgmlType.Q5_1, "q5_k_m");
        Expect(q5, "blk.2.attn_v.weight", GgmlType.Q8_0, "q5_k_m");
        var q6 = Types(Stories260K, QuantizationMix.Q6_K);
        Expect(q6, "blk.0.attn_q.weight", GgmlType.Q8_0, "q6_k");
        Expect(q6, "output.weight", GgmlType.Q8_0, "q6_k");
    }

    [Fact]
    public void TiedEmbeddingIsQuantizedAsTheOutput()
    {
        var tied = SyntheticPreset.Find("tiny256")!.Config with { TiedOutput = true };
        var types = Types(tied, QuantizationMix.Q4_K_M);
        Expect(types, "token_embd.weight", GgmlType.Q6_K, "q4_k_m tied");
        Assert.False(types.ContainsKey("output.weight"), "a tied model has no output.weight");
    }

    [Theory]
    [InlineData(QuantizationMix.Q4_0, GgmlType.Q4_0, GgmlType.Q6_K)]
    [InlineData(QuantizationMix.Q8_0, GgmlType.Q8_0, GgmlType.Q8_0)]
    [InlineData(QuantizationMix.F16, GgmlType.F16, GgmlType.F16)]
    [InlineData(QuantizationMix.BF16, GgmlType.BF16, GgmlType.BF16)]
    public void SimpleMixesUseTheirTypeExceptTheQuantizedOutputAtQ6K(QuantizationMix mix, GgmlType matrices, GgmlType output)
    {
        var types = Types(SyntheticPreset.Find("tiny256")!.Config, mix);
        Expect(types, "blk.1.attn_v.weight", matrices, mix.ToString());
        Expect(types, "blk.1.ffn_down.weight", matrices, mix.ToString());
        Expect(types, "output.weight", output, mix.ToString());
        Expect(types, "blk.1.ffn_norm.weight", GgmlType.F32, mix.ToString());
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, 256, GgmlType.Q4_K)]
    [InlineData(GgmlType.Q4_K, 64, GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_K, 64, GgmlType.Q5_1)]
    [InlineData(GgmlType.Q6_K, 64, GgmlType.Q8_0)]
    [InlineData(GgmlType.Q3_K, 96, GgmlType.Q4_0)]
    [InlineData(GgmlType.Q6_K, 172, GgmlType.F16)]
    [InlineData(GgmlType.Q4_0, 172, GgmlType.F16)]
    [InlineData(GgmlType.Q8_0, 64, GgmlType.Q8_0)]
    public void StorageTypeFallsBackForRowsThatAreNotWholeBlocks(GgmlType wanted, long columns, GgmlType expected) =>
        Assert.True(expected == QuantizationRecipe.StorageType(wanted, columns), $"{wanted} on rows of {columns}: expected {expected}, got {QuantizationRecipe.StorageType(wanted, columns)}");

    [Fact]
    public void MixesCarryLlamaCppFileTypeNumbers()
    {
        Assert.Equal(15, QuantizationMixes.FileType(QuantizationMix.Q4_K_M));
        Assert.Equal(17, QuantizationMixes.FileType(QuantizationMix.Q5_K_M));
        Assert.Equal(18, QuantizationMixes.FileType(QuantizationMix.Q6_K));
        Assert.Equal(7, QuantizationMixes.FileType(QuantizationMix.Q8_0));
        Assert.Equal(2, QuantizationMixes.FileType(QuantizationMix.Q4_0));
        Assert.Equal(32, QuantizationMixes.FileType(QuantizationMix.BF16));
        Assert.True(QuantizationMixes.TryParse("Q4_K_M", out var m) && m == QuantizationMix.Q4_K_M, "q4_k_m parses case-insensitively");
        Assert.False(QuantizationMixes.TryParse("q4_k_s", out _), "q4_k_s is not offered");
    }
}
