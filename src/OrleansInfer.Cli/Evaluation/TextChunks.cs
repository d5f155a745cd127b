namespace OrleansInfer.Cli.Evaluation;

/// <summary>
/// llama.cpp's perplexity windows: the text tokenized once (BOS first when the vocabulary adds one), cut into
/// consecutive chunks of <see cref="Context"/> tokens (a partial last chunk is dropped), each chunk's first token
/// replaced by BOS; only the second half of each chunk is scored: the logits at positions
/// [Context/2, Context − 1) predicting the tokens after them.
/// </summary>
internal sealed record TextChunks(int[] Tokens, int Context, IReadOnlyList<int[]> Windows)
{
    public int FirstScored => Context / 2;

    /// <summary>Positions scored per chunk (each predicts the next token).</summary>
    public int ScoredPerChunk => Context - 1 - FirstScored;

    public int ScoredTokens => ScoredPerChunk * Windows.Count;

    public static TextChunks Create(int[] tokens, int context, int bosId)
    {
        if (context < 2) throw new ArgumentOutOfRangeException(nameof(context), context, "a chunk needs at least 2 tokens");
        var windows = new List<int[]>();
        for (var start = 0; start + context <= tokens.Length; start += context)
        {
            var window = tokens.AsSpan(start, context).ToArray();
            if (bosId >= 0) window[0] = bosId;
            windows.Add(window);
        }
        return new TextChunks(tokens, context, windows);
    }
}
