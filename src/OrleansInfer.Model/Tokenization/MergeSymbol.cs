namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// One symbol of a word being merged (llama.cpp's llm_symbol): a span of the word's chars in a doubly linked list.
/// Merging grows the left symbol and empties the right one, so symbols stay contiguous slices of the word.
/// </summary>
internal struct MergeSymbol
{
    public int Start;
    public int Length;
    public int Prev;
    public int Next;

    /// <summary>
    /// Splits <paramref name="text"/> into one symbol per code point (a surrogate pair stays together), writing into
    /// <paramref name="symbols"/>, which is reused between words and grown when too small. Returns the symbol count.
    /// </summary>
    public static int PerCodepoint(ReadOnlySpan<char> text, ref MergeSymbol[] symbols)
    {
        if (symbols.Length < text.Length) symbols = new MergeSymbol[Math.Max(text.Length, symbols.Length * 2)];
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            symbols[count] = new MergeSymbol { Start = i, Length = length, Prev = count - 1, Next = i + length < text.Length ? count + 1 : -1 };
            count++;
            i += length;
        }
        return count;
    }

    /// <summary>Merges symbol <paramref name="right"/> into <paramref name="left"/> and unlinks it.</summary>
    public static void Merge(MergeSymbol[] symbols, int left, int right)
    {
        ref var l = ref symbols[left];
        ref var r = ref symbols[right];
        l.Length += r.Length;
        r.Length = 0;
        l.Next = r.Next;
        if (r.Next >= 0) symbols[r.Next].Prev = left;
    }
}
