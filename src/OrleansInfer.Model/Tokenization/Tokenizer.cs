using System.Buffers;
using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// Text to token ids and back, matching llama.cpp's tokenizers (llama_tokenize / llama_token_to_piece).
/// Instances are immutable after construction and safe to share between threads.
/// </summary>
/// <remarks>
/// Leading-space rule of SentencePiece vocabularies with <see cref="Vocabulary.AddSpacePrefix"/>: the encoder puts a
/// space before the text (and after every special token); the decoder drops one leading space from the piece of a
/// token that directly follows BOS or that starts the sequence (<see cref="Decode"/>, or a
/// <see cref="StreamingDetokenizer"/> created without a previous token). That is llama2.c's run.c rule together with
/// llama.cpp's "remove the leading space of the first piece", and makes Decode(Encode(s)) == s with or without BOS.
/// </remarks>
public abstract class Tokenizer
{
    private readonly Dictionary<string, int> _idByText;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idBySpan;
    private readonly SpecialTokenPartitioner _partitioner;
    private readonly TokenPieces _pieces;
    private readonly bool _dropsLeadingSpace;

    private protected Tokenizer(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Types.Length != vocabulary.Count)
            throw new ArgumentException($"vocabulary has {vocabulary.Types.Length} token types for {vocabulary.Count} tokens", nameof(vocabulary));
        Vocabulary = vocabulary;

        // llama.cpp's token_to_id map: a later duplicate text overwrites an earlier one.
        _idByText = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (var id = 0; id < vocabulary.Count; id++) _idByText[vocabulary.Tokens[id]] = id;
        _idBySpan = _idByText.GetAlternateLookup<ReadOnlySpan<char>>();

        _partitioner = new SpecialTokenPartitioner(vocabulary);
        _pieces = new TokenPieces(vocabulary);
        _dropsLeadingSpace = vocabulary.Kind == TokenizerKind.SentencePiece && vocabulary.AddSpacePrefix;
    }

    public Vocabulary Vocabulary { get; }

    public int BosId => Vocabulary.BosId;

    public int EosId => Vocabulary.EosId;

    public int VocabularySize => Vocabulary.Count;

    /// <summary>Picks the algorithm by <see cref="Vocabulary.Kind"/>.</summary>
    public static Tokenizer Create(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return vocabulary.Kind switch
        {
            TokenizerKind.SentencePiece => new SentencePieceTokenizer(vocabulary),
            TokenizerKind.ByteLevelBpe => new ByteLevelBpeTokenizer(vocabulary),
            _ => throw new ArgumentException($"tokenizer kind {vocabulary.Kind} is not supported", nameof(vocabulary)),
        };
    }

    /// <summary>True for EOS and, where the vocabulary names one, the end-of-turn token.</summary>
    public bool IsEndOfGeneration(int id) => id >= 0 && (id == Vocabulary.EosId || id == Vocabulary.EotId);

    /// <summary>
    /// Tokenizes as llama_tokenize does. <paramref name="addSpecial"/> adds BOS / EOS as the vocabulary's AddBos / AddEos
    /// say; <paramref name="parseSpecial"/> lets control tokens written in the text (e.g. "&lt;s&gt;") become those tokens.
    /// User-defined tokens are always cut out first.
    /// </summary>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        // llama.cpp receives UTF-8, where a lone surrogate can only arrive as U+FFFD.
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0) text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

        var output = new List<int>(text.Length / 3 + 2);
        if (addSpecial && Vocabulary.AddBos) output.Add(Required(BosId, "BOS", "AddBos"));

        // The first fragment counts as following a special token (SentencePiece then prefixes a space).
        var followsSpecial = true;
        foreach (var fragment in _partitioner.Partition(text, parseSpecial))
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.TokenId);
                followsSpecial = true;
                continue;
            }
            EncodeText(text.AsSpan(fragment.Start, fragment.Length), followsSpecial, output);
            followsSpecial = false;
        }

        if (addSpecial && Vocabulary.AddEos) output.Add(Required(EosId, "EOS", "AddEos"));
        return output.ToArray();
    }

    /// <summary>Encodes one fragment of raw text (no special tokens in it) and appends the ids.</summary>
    private protected abstract void EncodeText(ReadOnlySpan<char> text, bool followsSpecial, List<int> output);

    /// <summary>The bytes a token contributes to text: llama.cpp's token_to_piece with special = false. Control tokens give none.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        CheckId(id);
        return _pieces[id];
    }

    /// <summary>Whole-sequence decode; equal to streaming every id through a new detokenizer and flushing.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(16, ids.Length * 4));
        var previous = StreamingDetokenizer.StartOfSequence;
        foreach (var id in ids)
        {
            var piece = PieceAfter(previous, id);
            piece.CopyTo(buffer.GetSpan(piece.Length));
            buffer.Advance(piece.Length);
            previous = id;
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <param name="previousToken">The token before the first one to be appended (e.g. the prompt's last, or BOS for an
    /// empty prompt); -1 when the stream starts the sequence.</param>
    public StreamingDetokenizer CreateStreamingDetokenizer(int previousToken = StreamingDetokenizer.StartOfSequence)
    {
        if (previousToken != StreamingDetokenizer.StartOfSequence) CheckId(previousToken);
        return new StreamingDetokenizer(this, previousToken);
    }

    /// <summary>The token's piece, less the leading space that the encoder's space prefix put there.</summary>
    internal ReadOnlySpan<byte> PieceAfter(int previous, int id)
    {
        var piece = TokenBytes(id);
        if (_dropsLeadingSpace && (previous == StreamingDetokenizer.StartOfSequence || previous == BosId) && piece.Length > 0 && piece[0] == (byte)' ')
            piece = piece[1..];
        return piece;
    }

    /// <summary>The vocabulary's text-to-id map (llama.cpp text_to_token), without allocating.</summary>
    private protected bool TryGetId(ReadOnlySpan<char> text, out int id) => _idBySpan.TryGetValue(text, out id);

    private protected bool TryGetId(string text, out int id) => _idByText.TryGetValue(text, out id);

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)Vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary of {Vocabulary.Count} tokens");
    }

    private static int Required(int id, string name, string flag) =>
        id >= 0 ? id : throw new InvalidOperationException($"the vocabulary sets {flag} but has no {name} token");
}
