using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// The bytes each token contributes to text, computed once for the whole vocabulary (llama.cpp token_to_piece with
/// special = false) and kept in one array so detokenizing never allocates per token.
/// </summary>
internal sealed class TokenPieces
{
    /// <summary>U+2585, what llama.cpp historically printed for the unknown token of a SentencePiece vocabulary.</summary>
    public const string UnknownPiece = "\u2585";

    private readonly byte[] _bytes;
    private readonly int[] _offsets;

    public TokenPieces(Vocabulary vocabulary)
    {
        var pieces = new byte[vocabulary.Count][];
        for (var id = 0; id < pieces.Length; id++)
            pieces[id] = vocabulary.Kind == TokenizerKind.SentencePiece ? SentencePiece(vocabulary, id) : ByteLevel(vocabulary, id);

        _offsets = new int[pieces.Length + 1];
        for (var id = 0; id < pieces.Length; id++) _offsets[id + 1] = _offsets[id] + pieces[id].Length;
        _bytes = new byte[_offsets[^1]];
        for (var id = 0; id < pieces.Length; id++) pieces[id].CopyTo(_bytes, _offsets[id]);
    }

    public ReadOnlySpan<byte> this[int id] => _bytes.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);

    /// <summary>"&lt;0xXX&gt;" as a byte (llama.cpp reads the two hex digits after "&lt;0x").</summary>
    public static bool TryParseBytePiece(string text, out byte value)
    {
        value = 0;
        return Vocabulary.IsBytePiece(text) && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    private static byte[] SentencePiece(Vocabulary v, int id)
    {
        var text = v.Tokens[id];
        switch (v.Types[id])
        {
            case TokenType.Normal:
                return Encoding.UTF8.GetBytes(text.Replace(Vocabulary.SentencePieceSpace, ' '));
            case TokenType.Byte:
                return TryParseBytePiece(text, out var b) ? [b] : [];
            case TokenType.Unknown:
                return Encoding.UTF8.GetBytes(UnknownPiece);
            case TokenType.UserDefined:
                return Encoding.UTF8.GetBytes(text);
            default:
                // Control, unused and undefined tokens print nothing (llama.cpp suppresses unsupported types like control).
                return [];
        }
    }

    private static byte[] ByteLevel(Vocabulary v, int id)
    {
        var text = v.Tokens[id];
        switch (v.Types[id])
        {
            case TokenType.Normal:
                return ByteLevelDecode(text);
            case TokenType.Byte:
                return TryParseBytePiece(text, out var b) ? [b] : [];
            case TokenType.UserDefined:
                return Encoding.UTF8.GetBytes(text);
            default:
                return [];
        }
    }

    /// <summary>
    /// llama_decode_text: each code point back to its byte. A code point outside the alphabet becomes llama.cpp's
    /// marker "[UNK_BYTE_0x" + its UTF-8 in hex + the whole token text + "]".
    /// </summary>
    private static byte[] ByteLevelDecode(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var b = ByteLevelAlphabet.ToByte(rune.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }

            var n = rune.EncodeToUtf8(utf8);
            var marker = new StringBuilder("[UNK_BYTE_0x");
            foreach (var u in utf8[..n]) marker.Append(u.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            marker.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(marker.ToString()));
        }
        return bytes.ToArray();
    }
}
