using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Model.Tests.Tokenization;

/// <summary>The vocabularies under test, loaded once per test run (the 32000- and 50257-token ones take a moment).</summary>
internal static class TestTokenizers
{
    public const string LlamaSpmFile = "ggml-vocab-llama-spm.gguf";
    public const string Gpt2File = "ggml-vocab-gpt-2.gguf";

    private static readonly Lazy<Tokenizer> LlamaSpmLazy = new(() => FromGguf(SharedData.File("tokenizers", LlamaSpmFile)));
    private static readonly Lazy<Tokenizer> Gpt2Lazy = new(() => FromGguf(SharedData.File("tokenizers", Gpt2File)));
    private static readonly Lazy<Tokenizer> Stories260KLazy = new(() => FromGguf(SharedData.Stories260KGguf));
    private static readonly Lazy<Tokenizer> Tok512Lazy = new(() => Tokenizer.Create(Vocabulary.FromLlama2cTokenizer(SharedData.Tok512, 512)));
    private static readonly Lazy<Tokenizer> Llama2BinLazy = new(() => Tokenizer.Create(Vocabulary.FromLlama2cTokenizer(SharedData.Llama2Tokenizer, 32000)));

    /// <summary>Llama 1/2 SentencePiece, 32000 tokens, from llama.cpp's test vocabularies.</summary>
    public static Tokenizer LlamaSpm => LlamaSpmLazy.Value;

    /// <summary>GPT-2 byte-level BPE, 50257 tokens and 50000 merges.</summary>
    public static Tokenizer Gpt2 => Gpt2Lazy.Value;

    public static Tokenizer Stories260K => Stories260KLazy.Value;

    public static Tokenizer Tok512 => Tok512Lazy.Value;

    /// <summary>The same Llama 2 vocabulary as <see cref="LlamaSpm"/>, read from a llama2.c tokenizer.bin.</summary>
    public static Tokenizer Llama2Bin => Llama2BinLazy.Value;

    public static Tokenizer ByName(string name) => name switch
    {
        LlamaSpmFile or "llama-spm" => LlamaSpm,
        Gpt2File or "gpt-2" => Gpt2,
        "stories260K.gguf" => Stories260K,
        "tok512.bin" => Tok512,
        "llama2-tokenizer.bin" => Llama2Bin,
        _ => throw new ArgumentException($"no test tokenizer named {name}", nameof(name)),
    };

    public static Tokenizer FromGguf(string path)
    {
        using var gguf = GgufFile.Open(path);
        return Tokenizer.Create(Vocabulary.FromGguf(gguf.Metadata));
    }
}

/// <summary>Text exercising the awkward corners: accents, CJK, emoji (ZWJ sequences, flags, skin tones, astral planes), digits, whitespace runs.</summary>
internal static class MixedCorpus
{
    public static readonly string[] Strings =
    [
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "café naïve façade Ångström Øresund ĳ œuvre",
        "Ελληνικά, русский текст, עברית, العربية",
        "日本語のテキストと中文字符、한국어",
        "😀 grinning",
        "👨‍👩‍👧‍👦 family, 👩🏽‍💻 coder, 🏳️‍🌈 flag",
        "🇺🇸🇫🇷🇯🇵",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱 𝟘𝟙𝟚",
        "1234567890 3.14159 1,000,000 ²³ Ⅻ ٣",
        "a    b     c",
        "   leading spaces",
        "trailing spaces   ",
        "\tindented\t\ttabs\t",
        "line one\nline two\n\nline four\n",
        "windows\r\nline\r\n\r\nend",
        " \n \t \r\n mixed \u00a0 whitespace \u3000 end",
        "I'm sure they'll say it's 'quoted' and WE'VE DONE it",
        "<html><body class=\"x\">&amp;</body></html>",
        "def f(x):\n    return x ** 2  # comment\n",
        "e\u0301 combining acute, \u200b zero width space, \u00ad soft hyphen",
        " ",
        "  ",
        "\n",
        "x",
        "",
    ];
}
