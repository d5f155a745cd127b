using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// Turns generated tokens into text as they arrive. Each <see cref="Append"/> returns the text that became complete:
/// a UTF-8 character split over several tokens (byte-fallback or byte-level pieces) is held back and returned whole
/// with the token that completes it. Invalid bytes become U+FFFD as soon as they are known to be invalid; an incomplete
/// character at the end becomes U+FFFD at <see cref="Flush"/>. Not thread-safe: one instance per stream.
/// </summary>
public sealed class StreamingDetokenizer
{
    /// <summary>Previous-token value meaning "nothing before": the first piece loses its prefix space.</summary>
    public const int StartOfSequence = -1;

    private readonly Tokenizer _tokenizer;
    // The replacement fallback writes U+FFFD for invalid bytes; with flush false it keeps an incomplete tail.
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    internal StreamingDetokenizer(Tokenizer tokenizer, int previousToken)
    {
        _tokenizer = tokenizer;
        PreviousToken = previousToken;
    }

    /// <summary>The last token appended (or the one given at creation).</summary>
    public int PreviousToken { get; private set; }

    /// <summary>Adds a token; returns the text completed by it (often empty for a partial character or a control token).</summary>
    public string Append(int tokenId)
    {
        var piece = _tokenizer.PieceAfter(PreviousToken, tokenId);
        PreviousToken = tokenId;
        return Decode(piece, flush: false);
    }

    /// <summary>Returns whatever is held back (an incomplete character as U+FFFD) and resets the byte state.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        if (bytes.IsEmpty && !flush) return string.Empty;
        // Every byte yields at most one char, plus at most three held back from earlier pieces.
        var needed = bytes.Length + 4;
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        var n = _decoder.GetChars(bytes, _chars, flush);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }
}
