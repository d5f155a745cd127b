namespace OrleansInfer.Model.Templates.Lexing;

/// <summary>The inside of {{ }} and {% %}: names, literals and operators up to the closing delimiter.</summary>
internal sealed partial class Lexer
{
    private static readonly string[] Operators =
    [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ];

    private void LexTag(int tag, int p, bool block)
    {
        Emit(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, "", tag);
        var depth = new Stack<char>();
        var n = _src.Length;
        while (true)
        {
            if (p >= n) throw Fail(block ? "Unexpected end of template. Jinja was looking for the end of the block ('%}')." : "unexpected end of template, expected 'end of print statement'.", tag);
            if (depth.Count == 0 && TryTagEnd(p, block)) return;
            var c = _src[p];
            if (PyChars.IsSpace(c)) { p++; continue; }
            var start = p;
            if (char.IsAsciiDigit(c))
            {
                p = LexNumber(p);
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                while (p < n && (char.IsLetterOrDigit(_src[p]) || _src[p] == '_')) p++;
                Emit(TokenKind.Name, _src[start..p], start);
                continue;
            }
            if (c == '\'' || c == '"')
            {
                p = LexString(p, c);
                continue;
            }
            var op = MatchOperator(p) ?? throw Fail($"unexpected char '{c}' at {p}", p);
            Balance(op, depth, p);
            Emit(TokenKind.Operator, op, p);
            p += op.Length;
        }
    }

    private bool TryTagEnd(int p, bool block)
    {
        if (block)
        {
            if (At(p, "+%}")) { Emit(TokenKind.BlockEnd, "", p); Finish(p + 3, 2); return true; }
            if (At(p, "-%}")) { Emit(TokenKind.BlockEnd, "", p); Finish(p + 3, 1); return true; }
            if (At(p, "%}")) { Emit(TokenKind.BlockEnd, "", p); Finish(p + 2, 0); return true; }
            return false;
        }
        if (At(p, "-}}")) { Emit(TokenKind.VariableEnd, "", p); Finish(p + 3, 1); return true; }
        if (At(p, "}}")) { Emit(TokenKind.VariableEnd, "", p); Finish(p + 2, 2); return true; }
        return false;
    }

    private void Balance(string op, Stack<char> depth, int p)
    {
        switch (op)
        {
            case "(": depth.Push(')'); break;
            case "[": depth.Push(']'); break;
            case "{": depth.Push('}'); break;
            case ")" or "]" or "}":
                if (depth.Count == 0) throw Fail($"unexpected '{op}'", p);
                var expected = depth.Pop();
                if (expected != op[0]) throw Fail($"unexpected '{op}', expected '{expected}'", p);
                break;
        }
    }

    private string? MatchOperator(int p)
    {
        foreach (var op in Operators)
        {
            if (At(p, op)) return op;
        }
        return null;
    }

    /// <summary>Integers and floats with optional underscores; "1." is an integer then a dot, "1e5" a float.</summary>
    private int LexNumber(int start)
    {
        var p = Digits(start);
        var isFloat = false;
        if (p + 1 < _src.Length && _src[p] == '.' && char.IsAsciiDigit(_src[p + 1]))
        {
            p = Digits(p + 1);
            isFloat = true;
        }
        if (p < _src.Length && (_src[p] == 'e' || _src[p] == 'E'))
        {
            var q = p + 1;
            if (q < _src.Length && (_src[q] == '+' || _src[q] == '-')) q++;
            if (q < _src.Length && char.IsAsciiDigit(_src[q]))
            {
                p = Digits(q);
                isFloat = true;
            }
        }
        Emit(isFloat ? TokenKind.Float : TokenKind.Integer, _src[start..p].Replace("_", ""), start);
        return p;
    }

    private int Digits(int p)
    {
        while (p < _src.Length && (char.IsAsciiDigit(_src[p]) || (_src[p] == '_' && p + 1 < _src.Length && char.IsAsciiDigit(_src[p + 1])))) p++;
        return p;
    }

    private int LexString(int start, char quote)
    {
        var p = start + 1;
        while (p < _src.Length && _src[p] != quote)
        {
            p += _src[p] == '\\' ? 2 : 1;
        }
        if (p >= _src.Length) throw Fail($"unexpected char '{quote}' at {start}", start);
        Emit(TokenKind.String, Unescape(_src[(start + 1)..p]), start);
        return p + 1;
    }
}
