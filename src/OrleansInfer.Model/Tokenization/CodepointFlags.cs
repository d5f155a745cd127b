using System.Globalization;
using System.Text;

namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// The code point classes the pre-tokenizers test, numbered as llama.cpp's unicode_cpt_flags. Every code point has at
/// least one category flag (unassigned ones have <see cref="Undefined"/>); <see cref="None"/> only describes a position
/// outside the text, which is how llama.cpp's splitters notice the end of a fragment.
/// </summary>
[Flags]
internal enum CodepointFlags : ushort
{
    None = 0,
    Undefined = 0x0001,
    Number = 0x0002,
    Letter = 0x0004,
    Separator = 0x0008,
    Mark = 0x0010,
    Punctuation = 0x0020,
    Symbol = 0x0040,
    Control = 0x0080,

    /// <summary>llama.cpp's whitespace set, a helper flag on top of the category (same set as .NET Regex's \s).</summary>
    Whitespace = 0x0100,
}

internal static class Codepoints
{
    private static readonly CodepointFlags[] Bmp = BuildBmp();

    public static CodepointFlags FlagsOf(int codepoint) =>
        (uint)codepoint < (uint)Bmp.Length ? Bmp[codepoint] : Classify(codepoint);

    /// <summary>0x09-0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000-0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000.</summary>
    public static bool IsWhitespace(int cp) =>
        cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private static CodepointFlags[] BuildBmp()
    {
        var table = new CodepointFlags[0x10000];
        for (var cp = 0; cp < table.Length; cp++) table[cp] = Classify(cp);
        return table;
    }

    private static CodepointFlags Classify(int cp)
    {
        // Surrogate code units never reach the splitters (text is sanitised first), but classify them as llama.cpp does (Cs -> control).
        var category = Rune.IsValid(cp) ? Rune.GetUnicodeCategory(new Rune(cp)) : UnicodeCategory.Surrogate;
        var flags = category switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CodepointFlags.Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CodepointFlags.Separator,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CodepointFlags.Mark,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse => CodepointFlags.Control,
            _ => CodepointFlags.Undefined,
        };
        return IsWhitespace(cp) ? flags | CodepointFlags.Whitespace : flags;
    }
}
