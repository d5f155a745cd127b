using System.Text;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Tests.Tokenization;

public sealed class StreamingDetokenizerTests
{
    private const string EmojiText = "Emoji: 😀 and 👨‍👩‍👧‍👦 done";

    [Fact]
    public void Byte_fallback_emoji_appear_whole_in_exactly_one_append()
    {
        var spm = TestTokenizers.LlamaSpm;
        var ids = spm.Encode(EmojiText, addSpecial: false);
        // llama.cpp's ids: every emoji is written as four <0xXX> byte tokens.
        int[] expected = [2812, 29877, 2397, 29901, 29871, 243, 162, 155, 131, 322, 29871, 243, 162, 148, 171, 30722, 243, 162, 148, 172, 30722, 243, 162, 148, 170, 30722, 243, 162, 148, 169, 2309];
        Assert.Equal(expected, ids);

        var pieces = Stream(spm, ids, out var flushed);

        AssertWholeAndClean(pieces, flushed);
        // The three bytes before the last of 😀 give nothing; the fourth gives the character.
        Assert.Equal(["", "", "", "😀"], pieces[5..9]);
    }

    [Fact]
    public void Byte_level_emoji_split_over_tokens_appear_whole_in_exactly_one_append()
    {
        var gpt2 = TestTokenizers.Gpt2;
        var ids = gpt2.Encode(EmojiText, addSpecial: false);
        int[] expected = [36, 5908, 7285, 25, 30325, 222, 290, 50169, 101, 447, 235, 41840, 102, 447, 235, 41840, 100, 447, 235, 41840, 99, 1760];
        Assert.Equal(expected, ids);

        var pieces = Stream(gpt2, ids, out var flushed);

        AssertWholeAndClean(pieces, flushed);
        // Token 30325 is " " plus the first three bytes of 😀: the space comes out, the partial character waits.
        Assert.Equal([" ", "😀"], pieces[4..6]);
    }

    private static string[] Stream(Tokenizer tokenizer, int[] ids, out string flushed)
    {
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var pieces = ids.Select(detokenizer.Append).ToArray();
        flushed = detokenizer.Flush();
        return pieces;
    }

    private static void AssertWholeAndClean(string[] pieces, string flushed)
    {
        Assert.Equal("", flushed);
        Assert.Equal(EmojiText, string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));
        foreach (var emoji in new[] { "😀", "👨", "👩", "👧", "👦" })
            Assert.Single(pieces, p => p.Contains(emoji, StringComparison.Ordinal));
    }

    [Fact]
    public void Incomplete_character_at_the_end_flushes_as_replacement()
    {
        var detokenizer = TestTokenizers.LlamaSpm.CreateStreamingDetokenizer();

        Assert.Equal("", detokenizer.Append(3 + 0xF0)); // <0xF0> starts a four-byte character
        Assert.Equal("", detokenizer.Append(3 + 0x9F));
        Assert.Equal("\uFFFD", detokenizer.Flush());
        Assert.Equal("", detokenizer.Flush());
    }

    [Fact]
    public void Invalid_bytes_become_replacements_at_once()
    {
        var detokenizer = TestTokenizers.LlamaSpm.CreateStreamingDetokenizer(previousToken: 1);

        Assert.Equal("\uFFFD", detokenizer.Append(3 + 0xFF)); // 0xFF never occurs in UTF-8
        Assert.Equal("", detokenizer.Append(3 + 0xE2)); // lead byte of a three-byte character
        Assert.Equal("\uFFFDA", detokenizer.Append(3 + 0x41)); // 'A' cuts it short
    }

    [Fact]
    public void Leading_space_is_dropped_only_after_BOS_or_at_the_start()
    {
        var spm = TestTokenizers.LlamaSpm;
        const int once = 9038; // "▁Once"
        Assert.Equal("▁Once", spm.Vocabulary.Tokens[once]);

        Assert.Equal("Once", spm.CreateStreamingDetokenizer().Append(once));
        Assert.Equal("Once", spm.CreateStreamingDetokenizer(previousToken: spm.BosId).Append(once));
        Assert.Equal(" Once", spm.CreateStreamingDetokenizer(previousToken: 15043).Append(once));

        var afterBos = spm.CreateStreamingDetokenizer();
        Assert.Equal("", afterBos.Append(spm.BosId));
        Assert.Equal("Once", afterBos.Append(once));
        Assert.Equal(" Once", afterBos.Append(once));
    }

    [Fact]
    public void Byte_level_vocabularies_never_drop_spaces()
    {
        var gpt2 = TestTokenizers.Gpt2;

        Assert.Equal(" Hello", gpt2.CreateStreamingDetokenizer().Append(18435));
        Assert.Equal(" Hello", gpt2.CreateStreamingDetokenizer(previousToken: gpt2.BosId).Append(18435));
    }

    [Fact]
    public void A_stream_can_continue_after_a_prompt()
    {
        var spm = TestTokenizers.LlamaSpm;
        var prompt = spm.Encode("Hello");
        var continuation = spm.Encode(" world and more", addSpecial: false)[1..]; // drop the "▁" of the doubled space

        var detokenizer = spm.CreateStreamingDetokenizer(previousToken: prompt[^1]);
        var text = new StringBuilder();
        foreach (var id in continuation) text.Append(detokenizer.Append(id));

        Assert.Equal(" world and more", text.Append(detokenizer.Flush()).ToString());
    }
}
