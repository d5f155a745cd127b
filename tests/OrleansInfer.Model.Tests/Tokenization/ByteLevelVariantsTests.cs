using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>
/// The GPT-2 vocabulary under the llama3 and qwen2 pre-tokenizers. Expected ids come from llama.cpp loading the same
/// vocabulary with tokenizer.ggml.pre changed (llama3 also turns on ignore_merges and BOS).
/// </summary>
public sealed class ByteLevelVariantsTests
{
    private const string Text = "Hello world 12345\n\n  x's DON'T";

    private static Tokenizer WithPreTokenizer(string name, bool addBos)
    {
        var v = TestTokenizers.Gpt2.Vocabulary;
        return Tokenizer.Create(new Vocabulary
        {
            Kind = v.Kind,
            PreTokenizer = name,
            Tokens = v.Tokens,
            Scores = v.Scores,
            Types = v.Types,
            Merges = v.Merges,
            BosId = v.BosId,
            EosId = v.EosId,
            AddBos = addBos,
        });
    }

    [Fact]
    public void Llama3_rules_split_digits_in_threes_and_lines_apart()
    {
        var llama3 = WithPreTokenizer("llama-bpe", addBos: true);

        Assert.Equal([50256, 15496, 995, 220, 10163, 2231, 628, 220, 2124, 338, 23917, 6, 51], llama3.Encode(Text));
        Assert.Equal([50256, 18435], llama3.Encode(" Hello"));
    }

    [Fact]
    public void Qwen2_rules_split_single_digits()
    {
        var qwen2 = WithPreTokenizer("qwen2", addBos: false);

        Assert.Equal([15496, 995, 220, 16, 17, 18, 19, 20, 628, 220, 2124, 338, 23917, 6, 51], qwen2.Encode(Text));
    }
}
