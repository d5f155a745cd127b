using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// llama.cpp's llm_tokenizer_spm: SentencePiece BPE driven by token scores, with byte fallback.
/// The text is split into code points, then the adjacent pair whose concatenation is the best-scoring token is merged
/// repeatedly; symbols that end up not being tokens are written as their UTF-8 bytes' &lt;0xXX&gt; tokens.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private readonly int[] _byteTokens = new int[256];

    public SentencePieceTokenizer(Vocabulary vocabulary) : base(vocabulary)
    {
        if (vocabulary.Kind != TokenizerKind.SentencePiece)
            throw new ArgumentException($"a {vocabulary.Kind} vocabulary needs another tokenizer", nameof(vocabulary));

        // llama.cpp byte_to_token: "<0xXX>" (upper-case hex), else the byte as a one-character token.
        // Where neither exists llama.cpp throws; the unknown token (or nothing, without one) is written instead.
        for (var b = 0; b < 256; b++)
        {
            if (TryGetId($"<0x{b:X2}>", out var id) || (b < 0x80 && TryGetId(((char)b).ToString(), out id)))
                _byteTokens[b] = id;
            else
                _byteTokens[b] = vocabulary.UnknownId;
        }
    }

    private protected override void EncodeText(ReadOnlySpan<char> text, bool followsSpecial, List<int> output)
    {
        // llama_escape_whitespace after the optional prefix space.
        var prefix = Vocabulary.AddSpacePrefix && followsSpecial ? 1 : 0;
        var escaped = new char[text.Length + prefix];
        if (prefix == 1) escaped[0] = Vocabulary.SentencePieceSpace;
        text.Replace(escaped.AsSpan(prefix), ' ', Vocabulary.SentencePieceSpace);
        if (escaped.Length == 0) return;

        var symbols = Array.Empty<MergeSymbol>();
        var count = MergeSymbol.PerCodepoint(escaped, ref symbols);
        var queue = new PriorityQueue<Bigram, Bigram>(Math.Max(1, count), BigramOrder.Instance);
        for (var i = 1; i < count; i++) TryAddBigram(escaped, symbols, queue, i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            var left = symbols[bigram.Left];
            var right = symbols[bigram.Right];
            // Skip pairs that an earlier merge changed: both symbols keep their index, so the size tells.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size) continue;

            MergeSymbol.Merge(symbols, bigram.Left, bigram.Right);
            TryAddBigram(escaped, symbols, queue, symbols[bigram.Left].Prev, bigram.Left);
            TryAddBigram(escaped, symbols, queue, bigram.Left, symbols[bigram.Left].Next);
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = escaped.AsSpan(symbols[i].Start, symbols[i].Length);
            if (TryGetId(piece, out var id))
            {
                output.Add(id);
                continue;
            }

            // Only a single code point can fail the lookup (merged symbols are tokens by construction): byte fallback.
            foreach (var rune in piece.EnumerateRunes())
            {
                var n = rune.EncodeToUtf8(utf8);
                foreach (var b in utf8[..n])
                {
                    if (_byteTokens[b] >= 0) output.Add(_byteTokens[b]);
                }
            }
        }
    }

    private void TryAddBigram(char[] text, MergeSymbol[] symbols, PriorityQueue<Bigram, Bigram> queue, int left, int right)
    {
        if (left < 0 || right < 0) return;
        var size = symbols[left].Length + symbols[right].Length;
        if (!TryGetId(text.AsSpan(symbols[left].Start, size), out var id)) return;
        var bigram = new Bigram(left, right, Vocabulary.Scores[id], size);
        queue.Enqueue(bigram, bigram);
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Size);

    /// <summary>Highest score first; equal scores: leftmost first (llm_bigram_spm::comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            if (x.Score > y.Score) return -1;
            if (x.Score < y.Score) return 1;
            return x.Left.CompareTo(y.Left);
        }
    }
}
