namespace OrleansInfer.Model.Templates.Lexing;

/// <summary>Python's idea of whitespace (str.isspace, re's \s), which is wider than .NET's for \x1c-\x1f.</summary>
internal static class PyChars
{
    public static readonly char[] Whitespace = BuildWhitespace();

    public static bool IsSpace(char c) => c switch
    {
        ' ' or '\t' or '\n' or '\r' or '\v' or '\f' => true,
        >= '\x1c' and <= '\x1f' => true,
        < '\x80' => false,
        _ => char.IsWhiteSpace(c),
    };

    private static char[] BuildWhitespace()
    {
        var list = new List<char>();
        for (var c = 0; c < 0x3100; c++)
        {
            if (IsSpace((char)c)) list.Add((char)c);
        }
        return [.. list];
    }
}
