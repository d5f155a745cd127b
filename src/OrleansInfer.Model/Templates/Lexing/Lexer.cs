using System.Text;

namespace OrleansInfer.Model.Templates.Lexing;

/// <summary>
/// Splits a template into tokens as Jinja2's lexer does with trim_blocks and lstrip_blocks: newlines are
/// normalized to \n and one trailing newline dropped; "-" strips all whitespace on that side of a tag, "+" keeps it;
/// a block or comment tag alone on its line loses the indentation before it and the newline after it.
/// </summary>
internal sealed partial class Lexer
{
    private readonly string _src;
    private readonly SourcePositions _positions;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        _src = source;
        _positions = new SourcePositions(source);
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(Normalize(source));
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>\r\n and \r become \n; a single trailing newline is removed (keep_trailing_newline=False).</summary>
    private static string Normalize(string source)
    {
        var s = source.Contains('\r') ? source.Replace("\r\n", "\n").Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private void Run()
    {
        var n = _src.Length;
        while (_pos < n)
        {
            var tag = FindTagStart(_pos);
            if (tag < 0)
            {
                Emit(TokenKind.Data, _src[_pos..], _pos);
                break;
            }
            var kind = _src[tag + 1];
            var after = tag + 2;
            var sign = after < n && (_src[after] == '-' || _src[after] == '+') ? _src[after] : '\0';
            var text = LeftStrip(_src[_pos..tag], sign, kind != '{');
            if (text.Length > 0) Emit(TokenKind.Data, text, _pos);
            if (sign != '\0') after++;
            if (kind == '#') LexComment(tag, after);
            else if (kind == '%' && TryRaw(tag, after)) { }
            else LexTag(tag, after, kind == '%');
        }
        Emit(TokenKind.End, "", n);
    }

    private int FindTagStart(int from)
    {
        for (var i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            var c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /// <summary>The whitespace control applied to the text before a tag (Jinja2's OptionalLStrip).</summary>
    private string LeftStrip(string text, char sign, bool lstripApplies)
    {
        if (sign == '-') return text.TrimEnd(PyChars.Whitespace);
        if (sign == '+' || !lstripApplies) return text;
        var lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting) return text;
        if (lineStart == text.Length) return text;
        for (var i = lineStart; i < text.Length; i++)
        {
            if (!PyChars.IsSpace(text[i])) return text;
        }
        return text[..lineStart];
    }

    private void LexComment(int tag, int contentStart)
    {
        var end = _src.IndexOf("#}", contentStart, StringComparison.Ordinal);
        if (end < 0) throw Fail("Missing end of comment tag", tag);
        var prev = end > contentStart ? _src[end - 1] : '\0';
        Finish(end + 2, prev == '-' ? 1 : prev == '+' ? 2 : 0);
    }

    /// <summary>Moves past a closing delimiter: mode 1 strips all whitespace after it, 0 one newline (trim_blocks), 2 nothing.</summary>
    private void Finish(int pos, int mode)
    {
        if (mode == 1)
        {
            while (pos < _src.Length && PyChars.IsSpace(_src[pos])) pos++;
        }
        else if (mode == 0 && pos < _src.Length && _src[pos] == '\n')
        {
            pos++;
        }
        _lineStarting = pos > 0 && _src[pos - 1] == '\n';
        _pos = pos;
    }

    /// <summary>{% raw %} ... {% endraw %}: the text between is data, untouched except for the endraw tag's whitespace control.</summary>
    private bool TryRaw(int tag, int after)
    {
        var p = SkipSpace(after);
        if (!At(p, "raw")) return false;
        p = SkipSpace(p + 3);
        int bodyStart;
        if (At(p, "-%}")) bodyStart = SkipSpace(p + 3);
        else if (At(p, "%}")) bodyStart = p + 2;
        else return false;
        _lineStarting = _src[bodyStart - 1] == '\n';
        for (var i = _src.IndexOf("{%", bodyStart, StringComparison.Ordinal); i >= 0; i = _src.IndexOf("{%", i + 2, StringComparison.Ordinal))
        {
            var q = i + 2;
            var sign = q < _src.Length && (_src[q] == '-' || _src[q] == '+') ? _src[q] : '\0';
            if (sign != '\0') q++;
            q = SkipSpace(q);
            if (!At(q, "endraw")) continue;
            q = SkipSpace(q + 6);
            int mode;
            if (At(q, "+%}")) mode = 2;
            else if (At(q, "-%}")) mode = 1;
            else if (At(q, "%}")) mode = 0;
            else continue;
            var text = LeftStrip(_src[bodyStart..i], sign, true);
            if (text.Length > 0) Emit(TokenKind.Data, text, bodyStart);
            Finish(q + (mode == 0 ? 2 : 3), mode);
            return true;
        }
        throw Fail("Missing end of raw directive", tag);
    }

    private int SkipSpace(int p)
    {
        while (p < _src.Length && PyChars.IsSpace(_src[p])) p++;
        return p;
    }

    private bool At(int p, string s) => string.CompareOrdinal(_src, p, s, 0, s.Length) == 0;

    private void Emit(TokenKind kind, string value, int offset)
    {
        var (line, column) = _positions.At(offset);
        _tokens.Add(new Token(kind, value, line, column));
    }

    private TemplateSyntaxException Fail(string message, int offset)
    {
        var (line, column) = _positions.At(offset);
        return new TemplateSyntaxException(message, line, column);
    }

    internal static string Unescape(string body)
    {
        if (body.IndexOf('\\') < 0) return body;
        var sb = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c != '\\' || i + 1 >= body.Length) { sb.Append(c); continue; }
            var e = body[++i];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x' when TryHex(body, i + 1, 2, out var x): sb.Append((char)x); i += 2; break;
                case 'u' when TryHex(body, i + 1, 4, out var u): sb.Append((char)u); i += 4; break;
                case 'U' when TryHex(body, i + 1, 8, out var big) && big <= 0x10FFFF: sb.Append(char.ConvertFromUtf32(big)); i += 8; break;
                case >= '0' and <= '7':
                    var value = e - '0';
                    for (var k = 0; k < 2 && i + 1 < body.Length && body[i + 1] is >= '0' and <= '7'; k++) value = value * 8 + (body[++i] - '0');
                    sb.Append((char)value);
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        return sb.ToString();
    }

    private static bool TryHex(string s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length) return false;
        for (var i = start; i < start + count; i++)
        {
            var d = Convert.ToInt32(char.IsAsciiHexDigit(s[i]) ? 1 : 0);
            if (d == 0) return false;
            value = value * 16 + Convert.ToInt32(s[i].ToString(), 16);
        }
        return true;
    }
}
