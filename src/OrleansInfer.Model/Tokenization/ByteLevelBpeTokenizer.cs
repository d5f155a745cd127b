using System.Buffers;
using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// llama.cpp's llm_tokenizer_bpe for GPT-2 style vocabularies: the text is pre-tokenized into words, each word's UTF-8
/// bytes are spelled in the GPT-2 byte alphabet, and adjacent symbols are merged by the rank of their pair in
/// tokenizer.ggml.merges (lowest rank first) until no listed pair remains.
/// </summary>
public sealed class ByteLevelBpeTokenizer : Tokenizer
{
    // Merge ranks keyed by the ids of their two sides in _sides, so lookups work on spans without allocating.
    private readonly Dictionary<string, int> _sides = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _sideBySpan;
    private readonly Dictionary<long, int> _ranks = [];

    public ByteLevelBpeTokenizer(Vocabulary vocabulary) : base(vocabulary)
    {
        if (vocabulary.Kind != TokenizerKind.ByteLevelBpe)
            throw new ArgumentException($"a {vocabulary.Kind} vocabulary needs another tokenizer", nameof(vocabulary));
        PreTokenizer = PreTokenizer.ForName(vocabulary.PreTokenizer);
        _sideBySpan = _sides.GetAlternateLookup<ReadOnlySpan<char>>();

        for (var rank = 0; rank < vocabulary.Merges.Length; rank++)
        {
            // llama.cpp splits "left right" at the first space after position 0; without one both sides are empty.
            var merge = vocabulary.Merges[rank];
            var space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            var (left, right) = space >= 0 ? (merge[..space], merge[(space + 1)..]) : ("", "");
            // A repeated pair keeps its first (lowest) rank, as std::map::emplace does.
            _ranks.TryAdd(Key(SideId(left), SideId(right)), rank);
        }
    }

    public PreTokenizer PreTokenizer { get; }

    private int SideId(string side)
    {
        if (!_sides.TryGetValue(side, out var id)) _sides.Add(side, id = _sides.Count);
        return id;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private int Rank(ReadOnlySpan<char> left, ReadOnlySpan<char> right) =>
        _sideBySpan.TryGetValue(left, out var l) && _sideBySpan.TryGetValue(right, out var r) && _ranks.TryGetValue(Key(l, r), out var rank) ? rank : -1;

    private protected override void EncodeText(ReadOnlySpan<char> text, bool followsSpecial, List<int> output)
    {
        var words = new List<Range>();
        PreTokenizer.Split(text, words);
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        var spelled = ArrayPool<char>.Shared.Rent(utf8.Length);
        // Scratch shared by the words of this call.
        var work = new WordScratch();
        try
        {
            foreach (var range in words)
            {
                // Spell the word's bytes in the GPT-2 alphabet: one BMP char per byte.
                var n = Encoding.UTF8.GetBytes(text[range], utf8);
                for (var i = 0; i < n; i++) spelled[i] = ByteLevelAlphabet.ToChar(utf8[i]);
                EncodeWord(spelled.AsSpan(0, n), work, output);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
            ArrayPool<char>.Shared.Return(spelled);
        }
    }

    private void EncodeWord(ReadOnlySpan<char> word, WordScratch work, List<int> output)
    {
        if (PreTokenizer.IgnoreMerges && TryGetId(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        var count = MergeSymbol.PerCodepoint(word, ref work.Symbols);
        if (count == 0) return;
        var symbols = work.Symbols;
        var queue = work.Queue;
        queue.Clear();
        for (var i = 1; i < count; i++) TryAddBigram(word, symbols, queue, i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            var left = symbols[bigram.Left];
            var right = symbols[bigram.Right];
            // Outdated pair: a side was merged away or grew (sizes differ exactly when the text would).
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size) continue;

            MergeSymbol.Merge(symbols, bigram.Left, bigram.Right);
            TryAddBigram(word, symbols, queue, symbols[bigram.Left].Prev, bigram.Left);
            TryAddBigram(word, symbols, queue, bigram.Left, symbols[bigram.Left].Next);
        }

        for (var i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = word.Slice(symbols[i].Start, symbols[i].Length);
            if (TryGetId(piece, out var id))
            {
                output.Add(id);
                continue;
            }

            // llama.cpp then looks each UTF-8 byte of the symbol up as a one-byte token: only ASCII alphabet chars can match.
            foreach (var c in piece)
            {
                if (c < 0x80 && TryGetId(new ReadOnlySpan<char>(in c), out var single)) output.Add(single);
            }
        }
    }

    private void TryAddBigram(ReadOnlySpan<char> word, MergeSymbol[] symbols, PriorityQueue<Bigram, Bigram> queue, int left, int right)
    {
        if (left < 0 || right < 0) return;
        var rank = Rank(word.Slice(symbols[left].Start, symbols[left].Length), word.Slice(symbols[right].Start, symbols[right].Length));
        if (rank < 0) return;
        var bigram = new Bigram(left, right, rank, symbols[left].Length + symbols[right].Length);
        queue.Enqueue(bigram, bigram);
    }

    private readonly record struct Bigram(int Left, int Right, int Rank, int Size);

    private sealed class WordScratch
    {
        public MergeSymbol[] Symbols = [];
        public readonly PriorityQueue<Bigram, Bigram> Queue = new(BigramOrder.Instance);
    }

    /// <summary>Lowest rank first; equal ranks: leftmost first (llm_bigram_bpe::comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y) => x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Left.CompareTo(y.Left);
    }
}
