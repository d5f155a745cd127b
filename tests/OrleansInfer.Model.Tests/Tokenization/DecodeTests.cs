using System.Text;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Tests.Tokenization;

public sealed class DecodeTests
{
    public static TheoryData<string, string> RoundTripCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var vocab in new[] { "llama-spm", "gpt-2", "tok512.bin" })
            foreach (var s in MixedCorpus.Strings) data.Add(vocab, s);
        return data;
    }

    /// <summary>
    /// Decode(Encode(s)) gives s back: byte fallback (SentencePiece) and byte-level pieces (GPT-2) lose nothing, and the
    /// space the SentencePiece encoder puts before the text is dropped again from the first piece.
    /// </summary>
    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Decode_of_encode_without_BOS_is_the_text(string vocab, string text)
    {
        var tokenizer = TestTokenizers.ByName(vocab);

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Decode_of_encode_with_BOS_is_the_text(string vocab, string text)
    {
        var tokenizer = TestTokenizers.ByName(vocab);

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: true)));
    }

    [Fact]
    public void Only_the_first_piece_loses_its_prefix_space()
    {
        var spm = TestTokenizers.LlamaSpm;
        int[] ids = [15043, 15043]; // "▁Hello" twice

        Assert.Equal("Hello Hello", spm.Decode(ids));
        Assert.Equal("Hello Hello", spm.Decode([1, .. ids]));
        Assert.Equal(" Hello", spm.Decode([29871, 15043])); // "▁" then "▁Hello": only the first space goes
    }

    [Fact]
    public void Byte_level_decoding_keeps_every_space()
    {
        Assert.Equal(" Hello world", TestTokenizers.Gpt2.Decode([18435, 995]));
    }

    [Fact]
    public void Token_bytes_follow_llama_cpp_token_to_piece()
    {
        var spm = TestTokenizers.LlamaSpm;
        Assert.Equal("\u2585"u8.ToArray(), spm.TokenBytes(0).ToArray()); // unknown
        Assert.Empty(spm.TokenBytes(1).ToArray()); // control <s>
        Assert.Empty(spm.TokenBytes(2).ToArray()); // control </s>
        Assert.Equal(new byte[] { 0x41 }, spm.TokenBytes(3 + 0x41).ToArray()); // <0x41>
        Assert.Equal(new byte[] { 0xF0 }, spm.TokenBytes(3 + 0xF0).ToArray()); // <0xF0>
        Assert.Equal(" Hello"u8.ToArray(), spm.TokenBytes(15043).ToArray()); // ▁Hello

        var gpt2 = TestTokenizers.Gpt2;
        Assert.Empty(gpt2.TokenBytes(50256).ToArray()); // <|endoftext|>, control
        Assert.Equal(" Hello"u8.ToArray(), gpt2.TokenBytes(18435).ToArray()); // ĠHello
        Assert.Equal(" "u8.ToArray(), gpt2.TokenBytes(220).ToArray()); // Ġ
        Assert.Equal("\n"u8.ToArray(), gpt2.TokenBytes(198).ToArray()); // Ċ
        Assert.Equal(new byte[] { 0xF0, 0x9F, 0x98 }, gpt2.TokenBytes(47249).ToArray()); // first three bytes of 😀
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_rejected_with_id_and_size()
    {
        var spm = TestTokenizers.LlamaSpm;

        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => spm.TokenBytes(32000).ToArray());
        Assert.Contains("token id 32000 is outside the vocabulary of 32000 tokens", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => spm.Decode([1, -1]));
        Assert.Contains("token id -1 is outside the vocabulary of 32000 tokens", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<ArgumentOutOfRangeException>(() => spm.CreateStreamingDetokenizer().Append(40000));
        Assert.Contains("token id 40000", e3.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => spm.CreateStreamingDetokenizer(previousToken: 32000));
    }

    [Fact]
    public void End_of_generation_is_EOS()
    {
        var spm = TestTokenizers.LlamaSpm;
        Assert.True(spm.IsEndOfGeneration(2));
        Assert.False(spm.IsEndOfGeneration(1));
        Assert.False(spm.IsEndOfGeneration(-1));
        Assert.True(TestTokenizers.Gpt2.IsEndOfGeneration(50256));
        Assert.Equal([2], spm.Vocabulary.EndOfGenerationIds);
    }

    [Fact]
    public void Decode_equals_streaming_everything_and_flushing()
    {
        // Random ids, byte tokens included, so invalid and truncated UTF-8 is exercised too.
        var random = new Random(20240611);
        foreach (var tokenizer in new[] { TestTokenizers.LlamaSpm, TestTokenizers.Gpt2, TestTokenizers.Tok512 })
        {
            for (var n = 0; n < 300; n++)
            {
                var ids = new int[random.Next(0, 12)];
                for (var i = 0; i < ids.Length; i++)
                    ids[i] = random.Next(3) == 0 ? random.Next(0, 259) : random.Next(tokenizer.VocabularySize);

                var streamed = new StringBuilder();
                var detokenizer = tokenizer.CreateStreamingDetokenizer();
                foreach (var id in ids) streamed.Append(detokenizer.Append(id));
                streamed.Append(detokenizer.Flush());

                Assert.Equal(tokenizer.Decode(ids), streamed.ToString());
            }
        }
    }
}
