namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>Expected ids are llama.cpp's (llama_tokenize with add_special false).</summary>
public sealed class SpecialTokenTests
{
    [Fact]
    public void SentencePiece_control_tokens_in_text_parse_only_when_asked()
    {
        var spm = TestTokenizers.LlamaSpm;

        // After a special token the next fragment gets the space prefix again: "▁Hello".
        Assert.Equal([1, 15043, 2], spm.Encode("<s>Hello</s>", addSpecial: false, parseSpecial: true));
        Assert.Equal([529, 29879, 29958, 10994, 829, 29879, 29958], spm.Encode("<s>Hello</s>", addSpecial: false, parseSpecial: false));
        Assert.Equal([0], spm.Encode("<unk>", addSpecial: false, parseSpecial: true));
        Assert.Equal([529, 2960, 29958], spm.Encode("<unk>", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Gpt2_end_of_text_in_text_parses_only_when_asked()
    {
        var gpt2 = TestTokenizers.Gpt2;

        Assert.Equal([15496, 50256, 6894], gpt2.Encode("Hello<|endoftext|>world", addSpecial: false, parseSpecial: true));
        Assert.Equal([15496, 27, 91, 437, 1659, 5239, 91, 29, 6894], gpt2.Encode("Hello<|endoftext|>world", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Add_special_follows_the_vocabulary_flags()
    {
        Assert.Equal([1, 15043], TestTokenizers.LlamaSpm.Encode("Hello"));
        Assert.Equal([1], TestTokenizers.LlamaSpm.Encode(""));
        Assert.Equal([15496], TestTokenizers.Gpt2.Encode("Hello")); // GPT-2 adds no BOS
        Assert.Equal([1, 1, 15043], TestTokenizers.LlamaSpm.Encode("<s>Hello", addSpecial: true, parseSpecial: true));
    }
}
