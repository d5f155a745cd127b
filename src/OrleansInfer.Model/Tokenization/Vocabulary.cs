using System.Buffers.Binary;
using System.Text;
using OrleansInfer.Model.Gguf;

namespace OrleansInfer.Model.Tokenization;

/// <summary>Token attributes, numbered as llama.cpp's llama_token_type (stored in tokenizer.ggml.token_type).</summary>
public enum TokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>The tokenizer families the project implements.</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece BPE with scores and byte fallback (tokenizer.ggml.model = "llama").</summary>
    SentencePiece,

    /// <summary>GPT-2 style byte-level BPE with merges (tokenizer.ggml.model = "gpt2").</summary>
    ByteLevelBpe,
}

/// <summary>
/// A tokenizer's vocabulary and settings as stored in a GGUF file (tokenizer.ggml.*) or a llama2.c
/// tokenizer.bin. Token texts use the GGUF conventions: SentencePiece pieces spell spaces as U+2581,
/// byte-level BPE pieces use the GPT-2 byte-to-unicode alphabet.
/// </summary>
public sealed record Vocabulary
{
    public const char SentencePieceSpace = '\u2581';

    public required TokenizerKind Kind { get; init; }

    /// <summary>tokenizer.ggml.pre (the pre-tokenizer of a byte-level BPE vocabulary), e.g. "gpt-2", "llama-bpe", "qwen2".</summary>
    public string? PreTokenizer { get; init; }

    public required string[] Tokens { get; init; }

    /// <summary>SentencePiece merge scores (empty for byte-level BPE).</summary>
    public required float[] Scores { get; init; }

    public required TokenType[] Types { get; init; }

    /// <summary>Byte-level BPE merges "left right", in rank order.</summary>
    public string[] Merges { get; init; } = [];

    public int BosId { get; init; } = -1;
    public int EosId { get; init; } = -1;
    public int UnknownId { get; init; } = -1;
    public int PaddingId { get; init; } = -1;

    /// <summary>End-of-turn token of chat models, when the file names one.</summary>
    public int EotId { get; init; } = -1;

    public bool AddBos { get; init; }
    public bool AddEos { get; init; }
    public bool AddSpacePrefix { get; init; }

    /// <summary>The Jinja chat template (GGUF tokenizer.chat_template), when the model carries one.</summary>
    public string? ChatTemplate { get; init; }

    public int Count => Tokens.Length;

    /// <summary>Token ids that end generation (EOS, and EOT where present).</summary>
    public IReadOnlyList<int> EndOfGenerationIds => new[] { EosId, EotId }.Where(id => id >= 0).Distinct().ToArray();

    public static Vocabulary FromGguf(GgufMetadata m)
    {
        var model = m.GetString("tokenizer.ggml.model") ?? throw m.Missing("tokenizer.ggml.model");
        var tokens = m.GetArray<string>("tokenizer.ggml.tokens") ?? throw m.Missing("tokenizer.ggml.tokens");
        var kind = model switch
        {
            "llama" => TokenizerKind.SentencePiece,
            "gpt2" => TokenizerKind.ByteLevelBpe,
            _ => throw new ModelFormatException($"tokenizer model '{model}' is not supported (llama and gpt2 are)", m.OffsetOf("tokenizer.ggml.model"), m.SourcePath),
        };

        var scores = m.GetArray<float>("tokenizer.ggml.scores") ?? new float[tokens.Length];
        var rawTypes = m.GetArray<int>("tokenizer.ggml.token_type");
        var types = new TokenType[tokens.Length];
        for (var i = 0; i < types.Length; i++) types[i] = rawTypes is not null && i < rawTypes.Length ? (TokenType)rawTypes[i] : TokenType.Normal;
        if (scores.Length != tokens.Length)
            throw new ModelFormatException($"tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens", m.OffsetOf("tokenizer.ggml.scores"), m.SourcePath);
        if (rawTypes is not null && rawTypes.Length != tokens.Length)
            throw new ModelFormatException($"tokenizer.ggml.token_type has {rawTypes.Length} entries for {tokens.Length} tokens", m.OffsetOf("tokenizer.ggml.token_type"), m.SourcePath);

        var spm = kind == TokenizerKind.SentencePiece;
        var pre = m.GetString("tokenizer.ggml.pre");
        int Id(string key, int fallback)
        {
            var v = m.GetInteger(key);
            if (v is null) return fallback;
            // Negative or out-of-range ids mean "none" in some converters (llama.cpp treats them so).
            return v >= 0 && v < tokens.Length ? (int)v : -1;
        }

        var isLlama3 = pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2";
        return new Vocabulary
        {
            Kind = kind,
            PreTokenizer = pre,
            Tokens = tokens,
            Scores = scores,
            Types = types,
            Merges = spm ? [] : m.GetArray<string>("tokenizer.ggml.merges") ?? throw m.Missing("tokenizer.ggml.merges"),
            BosId = Id("tokenizer.ggml.bos_token_id", spm ? 1 : 11),
            EosId = Id("tokenizer.ggml.eos_token_id", spm ? 2 : 11),
            UnknownId = Id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1),
            PaddingId = Id("tokenizer.ggml.padding_token_id", -1),
            EotId = Id("tokenizer.ggml.eot_token_id", -1),
            AddBos = m.GetBool("tokenizer.ggml.add_bos_token") ?? (spm || isLlama3),
            AddEos = m.GetBool("tokenizer.ggml.add_eos_token") ?? false,
            AddSpacePrefix = m.GetBool("tokenizer.ggml.add_space_prefix") ?? spm,
            ChatTemplate = m.GetString("tokenizer.chat_template"),
        };
    }

    /// <summary>
    /// Reads a llama2.c tokenizer.bin (int32 max_token_length, then per token: f32 score, int32 length, bytes).
    /// Its pieces spell spaces as ' ' and BOS/EOS as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n"; they are normalized to GGUF conventions.
    /// </summary>
    /// <param name="path">The tokenizer.bin file.</param>
    /// <param name="vocabSize">Tokens to read (the model's vocabulary size); null reads every token in the file.</param>
    public static Vocabulary FromLlama2cTokenizer(string path, int? vocabSize)
    {
        var bytes = File.ReadAllBytes(path);
        long at = 0;
        ReadOnlySpan<byte> Take(int n, string what)
        {
            if (n < 0 || bytes.Length - at < n) throw new ModelFormatException($"tokenizer file truncated while reading {what}", at, path);
            var s = bytes.AsSpan((int)at, n);
            at += n;
            return s;
        }

        var maxLen = BinaryPrimitives.ReadInt32LittleEndian(Take(4, "max token length"));
        if (maxLen <= 0 || maxLen > 1 << 16) throw new ModelFormatException($"implausible max token length {maxLen}", 0, path);
        var tokens = new List<string>(vocabSize ?? 32000);
        var scores = new List<float>(vocabSize ?? 32000);
        var types = new List<TokenType>(vocabSize ?? 32000);
        var utf8 = new UTF8Encoding(false, true);
        for (var i = 0; vocabSize is null ? at < bytes.Length : i < vocabSize; i++)
        {
            scores.Add(BinaryPrimitives.ReadSingleLittleEndian(Take(4, $"score of token {i}")));
            var lenAt = at;
            var len = BinaryPrimitives.ReadInt32LittleEndian(Take(4, $"length of token {i}"));
            if (len < 0 || len > maxLen) throw new ModelFormatException($"token {i} has length {len} (max {maxLen})", lenAt, path);
            var raw = Take(len, $"text of token {i}");
            string text;
            try { text = utf8.GetString(raw); }
            catch (DecoderFallbackException) { throw new ModelFormatException($"token {i} is not valid UTF-8", lenAt + 4, path); }
            var (piece, type) = i switch
            {
                0 => ("<unk>", TokenType.Unknown),
                1 => ("<s>", TokenType.Control),
                2 => ("</s>", TokenType.Control),
                _ when IsBytePiece(text) => (text, TokenType.Byte),
                _ => (text.Replace(' ', SentencePieceSpace), TokenType.Normal),
            };
            tokens.Add(piece);
            types.Add(type);
        }

        return new Vocabulary
        {
            Kind = TokenizerKind.SentencePiece,
            Tokens = [.. tokens],
            Scores = [.. scores],
            Types = [.. types],
            BosId = 1,
            EosId = 2,
            UnknownId = 0,
            AddBos = true,
            AddSpacePrefix = true,
        };
    }

    /// <summary>True for SentencePiece byte-fallback pieces "&lt;0xXX&gt;".</summary>
    public static bool IsBytePiece(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' && Uri.IsHexDigit(text[3]) && Uri.IsHexDigit(text[4]);

    /// <summary>Writes the tokenizer.ggml.* keys llama.cpp reads.</summary>
    public void WriteTo(GgufWriter writer)
    {
        writer.Add("tokenizer.ggml.model", GgufValue.Of(Kind == TokenizerKind.SentencePiece ? "llama" : "gpt2"));
        if (PreTokenizer is not null) writer.Add("tokenizer.ggml.pre", GgufValue.Of(PreTokenizer));
        writer.Add("tokenizer.ggml.tokens", GgufValue.Of(Tokens));
        if (Kind == TokenizerKind.SentencePiece) writer.Add("tokenizer.ggml.scores", GgufValue.Of(Scores));
        writer.Add("tokenizer.ggml.token_type", GgufValue.Of(Types.Select(t => (int)t).ToArray()));
        if (Merges.Length > 0) writer.Add("tokenizer.ggml.merges", GgufValue.Of(Merges));
        if (BosId >= 0) writer.Add("tokenizer.ggml.bos_token_id", GgufValue.Of((uint)BosId));
        if (EosId >= 0) writer.Add("tokenizer.ggml.eos_token_id", GgufValue.Of((uint)EosId));
        if (UnknownId >= 0) writer.Add("tokenizer.ggml.unknown_token_id", GgufValue.Of((uint)UnknownId));
        if (PaddingId >= 0) writer.Add("tokenizer.ggml.padding_token_id", GgufValue.Of((uint)PaddingId));
        if (EotId >= 0) writer.Add("tokenizer.ggml.eot_token_id", GgufValue.Of((uint)EotId));
        writer.Add("tokenizer.ggml.add_bos_token", GgufValue.Of(AddBos));
        writer.Add("tokenizer.ggml.add_eos_token", GgufValue.Of(AddEos));
        if (Kind == TokenizerKind.SentencePiece) writer.Add("tokenizer.ggml.add_space_prefix", GgufValue.Of(AddSpacePrefix));
        if (ChatTemplate is not null) writer.Add("tokenizer.chat_template", GgufValue.Of(ChatTemplate));
    }
}
