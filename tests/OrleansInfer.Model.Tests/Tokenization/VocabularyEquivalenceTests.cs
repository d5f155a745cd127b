using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>llama2-tokenizer.bin (llama2.c format) and ggml-vocab-llama-spm.gguf are the same Llama 2 vocabulary.</summary>
public sealed class VocabularyEquivalenceTests
{
    public static TheoryData<string> Corpus()
    {
        // The mixed corpus plus llama.cpp's own test strings.
        var inp = File.ReadAllText(SharedData.File("tokenizers", TestTokenizers.LlamaSpmFile + ".inp")).Split("\n__ggml_vocab_test__\n")[..^1];
        var data = new TheoryData<string>();
        foreach (var s in MixedCorpus.Strings.Concat(inp).Distinct(StringComparer.Ordinal)) data.Add(s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Encode_identically(string text)
    {
        var fromGguf = TestTokenizers.LlamaSpm.Encode(text);
        var fromBin = TestTokenizers.Llama2Bin.Encode(text);

        Assert.Equal(fromGguf, fromBin);
    }
}
