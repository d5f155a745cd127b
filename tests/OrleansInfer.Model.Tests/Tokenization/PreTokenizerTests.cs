using System.Text;
using System.Text.RegularExpressions;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Model.Tests.Tokenization;

public sealed class PreTokenizerTests
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    // llama.cpp's spelling of (?i:'s|'t|'re|'ve|'m|'ll|'d), which keeps the case folding to ASCII.
    private const string Contractions = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private const string Llama3Pattern = Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Pattern = Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Theory]
    [InlineData(PreTokenizerKind.Gpt2, Gpt2Pattern)]
    [InlineData(PreTokenizerKind.Llama3, Llama3Pattern)]
    [InlineData(PreTokenizerKind.Qwen2, Qwen2Pattern)]
    public void Splits_like_the_regex_on_BMP_text(PreTokenizerKind kind, string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var splitter = PreTokenizer.For(kind);
        var checkedStrings = 0;

        foreach (var text in BmpCorpus())
        {
            Assert.Equal(RegexSplit(regex, text), splitter.Split(text));
            checkedStrings++;
        }

        Assert.Equal(FixedStrings.Length + 4000, checkedStrings);
    }

    [Fact]
    public void Gpt2_examples()
    {
        var gpt2 = PreTokenizer.For(PreTokenizerKind.Gpt2);

        Assert.Equal(["Hello", " world", " ", " !!'", "s", " 123", "\n"], gpt2.Split("Hello world  !!'s 123\n")); // punctuation run takes the '
        Assert.Equal(["it", "'s", " '", "ll"], gpt2.Split("it's 'll")); // a contraction only counts without the space
        Assert.Equal(["'", "S", " x", "   "], gpt2.Split("'S x   "));
    }

    [Fact]
    public void Llama3_examples()
    {
        var llama3 = PreTokenizer.For(PreTokenizerKind.Llama3);

        Assert.Equal(["123", "45", " abc", "\n\n", " ", " x"], llama3.Split("12345 abc\n\n  x"));
        Assert.Equal(["'S", "\tword", " ...\n", "'ll"], llama3.Split("'S\tword ...\n'll"));
        Assert.Equal(["1", "2", "3", "4"], PreTokenizer.For(PreTokenizerKind.Qwen2).Split("1234"));
    }

    [Fact]
    public void Astral_characters_stay_whole()
    {
        // Outside the BMP the regex (UTF-16 based) cannot serve as the oracle; code points are the unit here.
        Assert.Equal(["😀😀", " 𝔘𝔫", " 𠜎"], PreTokenizer.For(PreTokenizerKind.Gpt2).Split("😀😀 𝔘𝔫 𠜎"));
        Assert.Equal(["😀😀", " 𝔘𝔫", " 𠜎"], PreTokenizer.For(PreTokenizerKind.Llama3).Split("😀😀 𝔘𝔫 𠜎"));
    }

    [Theory]
    [InlineData(null, PreTokenizerKind.Gpt2, false)]
    [InlineData("default", PreTokenizerKind.Gpt2, false)]
    [InlineData("gpt-2", PreTokenizerKind.Gpt2, false)]
    [InlineData("something-new", PreTokenizerKind.Gpt2, false)]
    [InlineData("llama3", PreTokenizerKind.Llama3, true)]
    [InlineData("llama-v3", PreTokenizerKind.Llama3, true)]
    [InlineData("llama-bpe", PreTokenizerKind.Llama3, true)]
    [InlineData("dbrx", PreTokenizerKind.Llama3, false)]
    [InlineData("qwen2", PreTokenizerKind.Qwen2, false)]
    public void Rules_are_chosen_by_name(string? name, PreTokenizerKind kind, bool ignoreMerges)
    {
        var rules = PreTokenizer.ForName(name);

        Assert.Equal(kind, rules.Kind);
        Assert.Equal(ignoreMerges, rules.IgnoreMerges);
    }

    private static string[] RegexSplit(Regex regex, string text)
    {
        // As llama.cpp's unicode_regex_split_stl: matches, plus any unmatched gap as a word of its own.
        var words = new List<string>();
        var at = 0;
        foreach (Match m in regex.Matches(text))
        {
            if (m.Index > at) words.Add(text[at..m.Index]);
            if (m.Length > 0) words.Add(m.Value);
            at = m.Index + m.Length;
        }
        if (at < text.Length) words.Add(text[at..]);
        return words.ToArray();
    }

    private static readonly string[] FixedStrings =
    [
        "", " ", "  ", "   x", "x   ", "\t\t", "\r\n", "\r\n\r\n  ", " \n \n  x", "a\u00a0b", "\u3000\u3000x", "\u0085x", "x\u2028\u2029y",
        "I'm you're we've they'll he'd it's don't", "I'M YOU'RE WE'VE THEY'LL HE'D IT'S DON'T", "'", "''", "'s'", " 's", "x'", "'re'", "'r",
        "12345678", "3.14 2,000", "²³¹ ⅫⅣ ٣٤ 1٣", "a1b2", "café ñ", "e\u0301\u0302 x\u0301", " \u0301a", "\u0378\u0378 a\u0378 \u0378",
        "!!!  ???", " ...\n\n", "...\r\n", "<|endoftext|>", "$100 €5", "\u200b\u200bx", "\u0000\u0001 \u001f\u007f", "\uE000\uF8FF", "\uFFFD\uFFFF",
        "日本語 テキスト", "한국어 텍스트", "ขอบคุณ", "नमस्ते", "a \n b", "a\n\n\nb", "  \n  ", " \t\n", "\n ", "x \r\n", " !", " a",
    ];

    private static IEnumerable<string> BmpCorpus()
    {
        foreach (var s in FixedStrings) yield return s;

        string[] pool =
        [
            "a", "Z", "é", "ß", "Ж", "中", "ア", "한", "ก", "\u0E31", "1", "9", "²", "Ⅻ", "٣", "½", " ", " ", " ", "  ", "\t", "\n", "\r", "\v", "\f",
            "'", "s", "S", "t", "re", "RE", "ve", "m", "ll", "LL", "d", ".", ",", "!", "?", "-", "_", "$", "€", "+", "<", "|", "\u0301", "\u0378",
            "\u00a0", "\u1680", "\u2000", "\u200a", "\u202f", "\u205f", "\u3000", "\u0085", "\u2028", "\u2029", "\u200b", "\u00ad", "\u0000",
            "\u001f", "\u007f", "\uE000", "\uFFFD", "\uFFFF", "\u0600", "\u180e",
        ];
        var random = new Random(7);
        for (var i = 0; i < 4000; i++)
        {
            var text = new StringBuilder();
            var length = random.Next(1, 16);
            for (var j = 0; j < length; j++)
            {
                if (random.Next(4) > 0)
                {
                    text.Append(pool[random.Next(pool.Length)]);
                    continue;
                }

                // Any BMP code point, unassigned ones included (not surrogates: the oracle works on UTF-16 units).
                int cp;
                do cp = random.Next(0, 0x10000); while (cp is >= 0xD800 and <= 0xDFFF);
                text.Append((char)cp);
            }
            yield return text.ToString();
        }
    }
}
