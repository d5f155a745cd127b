using OrleansInfer.Model.Templates.Lexing;

namespace OrleansInfer.Model.Templates.Parsing;

/// <summary>A cursor over the token list with Jinja2's expect/skip helpers.</summary>
internal sealed class TokenStream(List<Token> tokens)
{
    private int _index;

    public Token Current => tokens[_index];

    public Token Peek => tokens[Math.Min(_index + 1, tokens.Count - 1)];

    public Token Next()
    {
        var t = tokens[_index];
        if (_index < tokens.Count - 1) _index++;
        return t;
    }

    public bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        Next();
        return true;
    }

    public bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        Next();
        return true;
    }

    public Token Expect(TokenKind kind)
    {
        if (Current.Kind != kind)
        {
            var wanted = new Token(kind, "", 0, 0).Describe();
            if (kind == TokenKind.Name) wanted = "name";
            throw Error($"expected token '{wanted.Trim('\'')}', got {Current.Describe()}", Current);
        }
        return Next();
    }

    public Token ExpectOperator(string op)
    {
        if (!Current.IsOperator(op)) throw Error($"expected token '{op}', got {Current.Describe()}", Current);
        return Next();
    }

    public Token ExpectName(string name)
    {
        if (!Current.IsName(name)) throw Error($"expected token '{name}', got {Current.Describe()}", Current);
        return Next();
    }

    public static TemplateSyntaxException Error(string message, Token at) => new(message, at.Line, at.Column);
}
