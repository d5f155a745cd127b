namespace OrleansInfer.Model.Tokenization;

/// <summary>A piece of the input: raw text (<see cref="TokenId"/> -1) or a special token found in it.</summary>
internal readonly record struct TextFragment(int Start, int Length, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// llama.cpp's tokenizer_st_partition: before any merging, occurrences of control, user-defined and unknown tokens
/// are cut out of the text, longest token text first. Without parseSpecial only user-defined tokens are cut
/// (as Hugging Face tokenizers do with added tokens); control and unknown texts stay ordinary text.
/// </summary>
internal sealed class SpecialTokenPartitioner
{
    private readonly (string Text, int Id)[] _all;
    private readonly (string Text, int Id)[] _userDefined;

    public SpecialTokenPartitioner(Vocabulary vocabulary)
    {
        var special = new List<(string Text, int Id, TokenType Type)>();
        for (var id = 0; id < vocabulary.Count; id++)
        {
            var type = vocabulary.Types[id];
            // An empty text would match everywhere; llama.cpp renames empty tokens, so they never match either.
            if (type is TokenType.Control or TokenType.UserDefined or TokenType.Unknown && vocabulary.Tokens[id].Length > 0)
                special.Add((vocabulary.Tokens[id], id, type));
        }

        // Longest first so that e.g. "<|im_end|>" is cut before a shorter token inside it; ties keep id order.
        var ordered = special.OrderByDescending(s => System.Text.Encoding.UTF8.GetByteCount(s.Text)).ThenBy(s => s.Id).ToArray();
        _all = ordered.Select(s => (s.Text, s.Id)).ToArray();
        _userDefined = ordered.Where(s => s.Type == TokenType.UserDefined).Select(s => (s.Text, s.Id)).ToArray();
    }

    public List<TextFragment> Partition(string text, bool parseSpecial)
    {
        var fragments = new List<TextFragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new TextFragment(0, text.Length, -1));

        var candidates = parseSpecial ? _all : _userDefined;
        if (candidates.Length == 0) return fragments;

        var next = new List<TextFragment>();
        foreach (var (special, id) in candidates)
        {
            next.Clear();
            var found = false;
            foreach (var fragment in fragments)
            {
                if (fragment.IsToken)
                {
                    next.Add(fragment);
                    continue;
                }

                var start = fragment.Start;
                var end = fragment.Start + fragment.Length;
                while (start < end)
                {
                    var at = text.AsSpan(start, end - start).IndexOf(special, StringComparison.Ordinal);
                    if (at < 0) break;
                    found = true;
                    if (at > 0) next.Add(new TextFragment(start, at, -1));
                    next.Add(new TextFragment(start + at, special.Length, id));
                    start += at + special.Length;
                }
                if (start < end) next.Add(new TextFragment(start, end - start, -1));
            }

            if (found) (fragments, next) = (next, fragments);
        }
        return fragments;
    }
}
