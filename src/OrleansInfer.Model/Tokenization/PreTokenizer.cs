using System.Buffers;
using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>The word-splitting rules of byte-level BPE vocabularies that the project implements.</summary>
public enum PreTokenizerKind
{
    /// <summary>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</summary>
    Gpt2,

    /// <summary>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</summary>
    Llama3,

    /// <summary>As <see cref="Llama3"/> but numbers split into single digits (\p{N}).</summary>
    Qwen2,
}

/// <summary>
/// Splits text into the words that byte-level BPE merges within. A hand-written scanner over code points that
/// replicates llama.cpp's unicode_regex_split_custom_gpt2 / _llama3 branch for branch (rather than a Regex), so
/// the edge cases (whitespace runs before a word, apostrophes, code points with unusual categories) fall the same way.
/// </summary>
public sealed class PreTokenizer
{
    private PreTokenizer(PreTokenizerKind kind, bool ignoreMerges)
    {
        Kind = kind;
        IgnoreMerges = ignoreMerges;
    }

    public PreTokenizerKind Kind { get; }

    /// <summary>llama.cpp's ignore_merges: a whole word that is itself a token is emitted without merging (llama3 family).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>
    /// Picks the rules for tokenizer.ggml.pre as llama.cpp's vocabulary loader does. Names llama.cpp maps to the GPT-2
    /// expression, "default", a missing name and any unknown name use <see cref="PreTokenizerKind.Gpt2"/>.
    /// </summary>
    public static PreTokenizer ForName(string? name) => name switch
    {
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" or "jina-v5-nano"
            => new PreTokenizer(PreTokenizerKind.Llama3, ignoreMerges: true),
        // Same expression as llama3, without ignore_merges.
        "dbrx" or "smaug-bpe" or "glm4" or "chatglm-bpe" => new PreTokenizer(PreTokenizerKind.Llama3, ignoreMerges: false),
        "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" or "megrez" or "stablelm2" or "hunyuan" or "solar-open"
            => new PreTokenizer(PreTokenizerKind.Qwen2, ignoreMerges: false),
        _ => new PreTokenizer(PreTokenizerKind.Gpt2, ignoreMerges: false),
    };

    public static PreTokenizer For(PreTokenizerKind kind) => new(kind, kind == PreTokenizerKind.Llama3);

    /// <summary>Convenience form of <see cref="Split(ReadOnlySpan{char}, List{Range})"/>.</summary>
    public string[] Split(string text)
    {
        var words = new List<Range>();
        Split(text, words);
        return words.Select(r => text[r]).ToArray();
    }

    /// <summary>Appends the words of <paramref name="text"/> as UTF-16 ranges; together they cover the text in order.</summary>
    public void Split(ReadOnlySpan<char> text, List<Range> words)
    {
        if (text.IsEmpty) return;
        var cps = ArrayPool<int>.Shared.Rent(text.Length);
        var starts = ArrayPool<int>.Shared.Rent(text.Length + 1);
        try
        {
            var n = 0;
            for (var i = 0; i < text.Length;)
            {
                // Lone surrogates read as U+FFFD, as llama.cpp reads invalid UTF-8.
                Rune.DecodeFromUtf16(text[i..], out var rune, out var used);
                starts[n] = i;
                cps[n++] = rune.Value;
                i += used;
            }
            starts[n] = text.Length;

            var scanner = new Scanner(cps.AsSpan(0, n), starts.AsSpan(0, n + 1), words);
            switch (Kind)
            {
                case PreTokenizerKind.Gpt2: scanner.Gpt2(); break;
                case PreTokenizerKind.Llama3: scanner.Llama3(maxDigits: 3); break;
                case PreTokenizerKind.Qwen2: scanner.Llama3(maxDigits: 1); break;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(cps);
            ArrayPool<int>.Shared.Return(starts);
        }
    }

    /// <summary>Walks code points; positions past the end read as <see cref="OutOfRange"/> with no flags.</summary>
    private ref struct Scanner(ReadOnlySpan<int> cps, ReadOnlySpan<int> charStarts, List<Range> words)
    {
        private const int OutOfRange = -1;
        private readonly ReadOnlySpan<int> _cps = cps;
        private readonly ReadOnlySpan<int> _charStarts = charStarts;
        private int _prevEnd;

        private readonly int Cp(int pos) => pos < _cps.Length ? _cps[pos] : OutOfRange;

        private readonly CodepointFlags Flags(int pos) => pos < _cps.Length ? Codepoints.FlagsOf(_cps[pos]) : CodepointFlags.None;

        private static bool Has(CodepointFlags flags, CodepointFlags test) => (flags & test) != 0;

        /// <summary>Ends the current word at <paramref name="end"/>; returns its length in code points.</summary>
        private int Emit(int end)
        {
            var length = end - _prevEnd;
            if (length > 0) words.Add(new Range(_charStarts[_prevEnd], _charStarts[end]));
            _prevEnd = end;
            return length;
        }

        private static int AsciiLower(int cp) => cp is >= 'A' and <= 'Z' ? cp + 32 : cp;

        /// <summary>'s|'t|'re|'ve|'m|'ll|'d (case-insensitive for llama3); returns the match length or 0.</summary>
        private readonly int Contraction(int pos, bool ignoreCase)
        {
            if (Cp(pos) != '\'' || pos + 1 >= _cps.Length) return 0;
            var next = ignoreCase ? AsciiLower(Cp(pos + 1)) : Cp(pos + 1);
            if (next is 's' or 't' or 'm' or 'd') return 2;
            if (pos + 2 >= _cps.Length) return 0;
            var nextNext = ignoreCase ? AsciiLower(Cp(pos + 2)) : Cp(pos + 2);
            return (next, nextNext) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 3 : 0;
        }

        /// <summary>Counts the whitespace run at pos; lastLineBreakEnd is just past its last \r or \n (0 when none).</summary>
        private readonly int WhitespaceRun(int pos, out int lastLineBreakEnd)
        {
            var count = 0;
            lastLineBreakEnd = 0;
            while (Has(Flags(pos + count), CodepointFlags.Whitespace))
            {
                if (Cp(pos + count) is '\r' or '\n') lastLineBreakEnd = pos + count + 1;
                count++;
            }
            return count;
        }

        public void Gpt2()
        {
            const CodepointFlags wordish = CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number;
            for (var pos = 0; pos < _cps.Length;)
            {
                var cp = Cp(pos);
                var contraction = Contraction(pos, ignoreCase: false);
                if (contraction > 0)
                {
                    pos += Emit(pos + contraction);
                    continue;
                }

                // " ?X+" alternatives look at the code point after an optional leading space.
                var flags = cp == ' ' ? Flags(pos + 1) : Flags(pos);
                if (Has(flags, CodepointFlags.Letter) || Has(flags, CodepointFlags.Number))
                {
                    var cls = Has(flags, CodepointFlags.Letter) ? CodepointFlags.Letter : CodepointFlags.Number;
                    if (cp == ' ') pos++;
                    while (Has(Flags(pos), cls)) pos++;
                    Emit(pos);
                    continue;
                }

                // " ?[^\s\p{L}\p{N}]+": any code point with flags but none of those (end of text has no flags).
                if ((flags & wordish) == 0 && flags != CodepointFlags.None)
                {
                    if (cp == ' ') pos++;
                    while ((Flags(pos) & wordish) == 0 && Flags(pos) != CodepointFlags.None) pos++;
                    Emit(pos);
                    continue;
                }

                WhitespaceOrSingle(ref pos, WhitespaceRun(pos, out _));
            }
        }

        public void Llama3(int maxDigits)
        {
            const CodepointFlags wordish = CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number;
            for (var pos = 0; pos < _cps.Length;)
            {
                var cp = Cp(pos);
                var flags = Flags(pos);
                var contraction = Contraction(pos, ignoreCase: true);
                if (contraction > 0)
                {
                    pos += Emit(pos + contraction);
                    continue;
                }

                // "[^\r\n\p{L}\p{N}]?\p{L}+"
                if (cp is not ('\r' or '\n') && !Has(flags, CodepointFlags.Number)
                    && (Has(flags, CodepointFlags.Letter) || Has(Flags(pos + 1), CodepointFlags.Letter)))
                {
                    pos++;
                    while (Has(Flags(pos), CodepointFlags.Letter)) pos++;
                    Emit(pos);
                    continue;
                }

                // "\p{N}{1,3}" (or single digits)
                if (Has(flags, CodepointFlags.Number))
                {
                    var groupStart = pos;
                    while (Has(Flags(pos), CodepointFlags.Number))
                    {
                        if (++pos - groupStart >= maxDigits)
                        {
                            Emit(pos);
                            groupStart = pos;
                        }
                    }
                    Emit(pos);
                    continue;
                }

                // " ?[^\s\p{L}\p{N}]+[\r\n]*". llama.cpp tests the current code point's flags here (not the next one's),
                // so a lone trailing space also takes this branch; the result equals the regex's.
                var next = cp == ' ' ? Flags(pos + 1) : flags;
                if ((next & wordish) == 0 && flags != CodepointFlags.None)
                {
                    if (cp == ' ') pos++;
                    while ((Flags(pos) & wordish) == 0 && Flags(pos) != CodepointFlags.None) pos++;
                    while (Cp(pos) is '\r' or '\n') pos++;
                    Emit(pos);
                    continue;
                }

                // "\s*[\r\n]+": the run up to its last line break.
                var run = WhitespaceRun(pos, out var lastLineBreakEnd);
                if (lastLineBreakEnd > 0)
                {
                    pos = lastLineBreakEnd;
                    Emit(pos);
                    continue;
                }

                WhitespaceOrSingle(ref pos, run);
            }
        }

        /// <summary>"\s+(?!\S)|\s+", else llama.cpp's no-match step of one code point.</summary>
        private void WhitespaceOrSingle(ref int pos, int run)
        {
            if (run > 1 && Cp(pos + run) != OutOfRange)
            {
                // Leave the last space to prefix the following word.
                pos += run - 1;
            }
            else if (run > 0)
            {
                pos += run;
            }
            else
            {
                pos++;
            }
            Emit(pos);
        }
    }
}
