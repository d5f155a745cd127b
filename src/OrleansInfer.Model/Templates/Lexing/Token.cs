namespace OrleansInfer.Model.Templates.Lexing;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexeme with its 1-based position in the source; <see cref="Value"/> holds text, a name, an operator or a decoded string.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column)
{
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Value == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Value == name;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.Name or TokenKind.Operator => $"'{Value}'",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
