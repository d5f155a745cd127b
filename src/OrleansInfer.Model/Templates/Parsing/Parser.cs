using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Lexing;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Parsing;

/// <summary>
/// Builds the statement tree from tokens, following Jinja2's parser (statements here, expressions in
/// ParserExpressions). Nesting deeper than <see cref="MaxNesting"/> is a syntax error rather than a stack overflow.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>Deepest nesting of blocks and sub-expressions accepted.</summary>
    public const int MaxNesting = 128;

    private readonly TokenStream _s;
    private readonly Stack<HashSet<string>> _macroNames = new();
    private int _depth;

    // Inside an if (or a conditional expression) Jinja2 reports unknown filters and tests only when they run.
    private int _soft;

    private Parser(List<Token> tokens) => _s = new TokenStream(tokens);

    public static Stmt[] Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var (body, _) = parser.ParseBody(null, null);
        return body;
    }

    private void Enter(Token at)
    {
        if (++_depth > MaxNesting || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw TokenStream.Error($"template nesting deeper than {MaxNesting}", at);
    }

    private void Leave() => _depth--;

    /// <summary>Parses until one of <paramref name="endTags"/> opens a block tag; returns the body and the tag found (its name consumed).</summary>
    private (Stmt[] Body, string? EndTag) ParseBody(string[]? endTags, string? innermost)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = _s.Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    _s.Next();
                    body.Add(new TextStmt(t.Line, t.Column, t.Value));
                    break;
                case TokenKind.VariableBegin:
                    _s.Next();
                    var expr = ParseTuple(true, null, false);
                    _s.Expect(TokenKind.VariableEnd);
                    body.Add(new OutputStmt(t.Line, t.Column, expr));
                    break;
                case TokenKind.BlockBegin:
                    _s.Next();
                    var name = _s.Current;
                    if (name.Kind != TokenKind.Name) throw TokenStream.Error("tag name expected", name);
                    if (endTags is not null && Array.IndexOf(endTags, name.Value) >= 0)
                    {
                        _s.Next();
                        return ([.. body], name.Value);
                    }
                    body.Add(ParseStatement(name, endTags, innermost));
                    break;
                default:
                    if (endTags is null) return ([.. body], null);
                    throw TokenStream.Error($"Unexpected end of template. Jinja was looking for the following tags: {Describe(endTags)}. The innermost block that needs to be closed is '{innermost}'.", t);
            }
        }
    }

    private static string Describe(string[] tags) => string.Join(" or ", tags.Select(x => $"'{x}'"));

    private Stmt ParseStatement(Token name, string[]? endTags, string? innermost)
    {
        Enter(name);
        try
        {
            switch (name.Value)
            {
                case "if": return ParseIf(name);
                case "for": return ParseFor(name);
                case "set": return ParseSet(name);
                case "macro": return ParseMacro(name);
                case "call": return ParseCallBlock(name);
                case "filter": return ParseFilterBlock(name);
                case "with": return ParseWith(name);
                case "break" or "continue":
                    _s.Next();
                    _s.Expect(TokenKind.BlockEnd);
                    return new BreakStmt(name.Line, name.Column, name.Value == "break");
                case "generation" or "block":
                    _s.Next();
                    if (name.Value == "block") _s.Expect(TokenKind.Name);
                    _s.Expect(TokenKind.BlockEnd);
                    var end = "end" + name.Value;
                    var (body, _) = ParseBody([end], name.Value);
                    SkipToBlockEnd();
                    return new WithStmt(name.Line, name.Column, [], [], body);
            }
            var message = $"Encountered unknown tag '{name.Value}'.";
            if (endTags is not null)
                message += $" Jinja was looking for the following tags: {Describe(endTags)}. The innermost block that needs to be closed is '{innermost}'.";
            throw TokenStream.Error(message, name);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>After an end tag's name: an optional repeated name (endblock x), then %}.</summary>
    private void SkipToBlockEnd()
    {
        if (_s.Current.Kind == TokenKind.Name) _s.Next();
        _s.Expect(TokenKind.BlockEnd);
    }

    private IfStmt ParseIf(Token tag)
    {
        _s.Next();
        var tests = new List<Expr>();
        var bodies = new List<Stmt[]>();
        Stmt[]? otherwise = null;
        _soft++;
        try
        {
            while (true)
            {
                tests.Add(ParseTuple(false, null, false));
                _s.Expect(TokenKind.BlockEnd);
                var (body, end) = ParseBody(["elif", "else", "endif"], "if");
                bodies.Add(body);
                if (end == "elif") continue;
                if (end == "else")
                {
                    _s.Expect(TokenKind.BlockEnd);
                    (otherwise, _) = ParseBody(["endif"], "if");
                }
                _s.Expect(TokenKind.BlockEnd);
                return new IfStmt(tag.Line, tag.Column, [.. tests], [.. bodies], otherwise);
            }
        }
        finally
        {
            _soft--;
        }
    }

    private ForStmt ParseFor(Token tag)
    {
        _s.Next();
        var target = ParseAssignTarget(false, ["in"]);
        _s.ExpectName("in");
        var iter = ParseTuple(false, ["recursive"], false);
        Expr? condition = null;
        if (_s.SkipName("if")) condition = ParseExpression();
        var recursive = _s.SkipName("recursive");
        _s.Expect(TokenKind.BlockEnd);
        var soft = _soft;
        _soft = 0;
        try
        {
            var (body, end) = ParseBody(["endfor", "else"], "for");
            Stmt[]? otherwise = null;
            if (end == "else")
            {
                _s.Expect(TokenKind.BlockEnd);
                (otherwise, _) = ParseBody(["endfor"], "for");
            }
            _s.Expect(TokenKind.BlockEnd);
            return new ForStmt(tag.Line, tag.Column, target, iter, condition, body, otherwise, recursive);
        }
        finally
        {
            _soft = soft;
        }
    }

    private Stmt ParseSet(Token tag)
    {
        _s.Next();
        var target = ParseAssignTarget(true, null);
        if (_s.SkipOperator("="))
        {
            var value = ParseTuple(true, null, false);
            _s.Expect(TokenKind.BlockEnd);
            return new SetStmt(tag.Line, tag.Column, target, value);
        }
        var filters = ParseFilterChain(false);
        _s.Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(["endset"], "set");
        _s.Expect(TokenKind.BlockEnd);
        return new SetBlockStmt(tag.Line, tag.Column, target, body, filters);
    }

    private WithStmt ParseWith(Token tag)
    {
        _s.Next();
        var targets = new List<Target>();
        var values = new List<Expr>();
        while (_s.Current.Kind != TokenKind.BlockEnd)
        {
            if (targets.Count > 0) _s.ExpectOperator(",");
            targets.Add(ParseAssignTarget(false, null));
            _s.ExpectOperator("=");
            values.Add(ParseExpression());
        }
        _s.Next();
        var (body, _) = ParseBody(["endwith"], "with");
        _s.Expect(TokenKind.BlockEnd);
        return new WithStmt(tag.Line, tag.Column, [.. targets], [.. values], body);
    }

    private FilterBlockStmt ParseFilterBlock(Token tag)
    {
        _s.Next();
        var filters = ParseFilterChain(true);
        _s.Expect(TokenKind.BlockEnd);
        var soft = _soft;
        _soft = 0;
        var (body, _) = ParseBody(["endfilter"], "filter");
        _soft = soft;
        _s.Expect(TokenKind.BlockEnd);
        return new FilterBlockStmt(tag.Line, tag.Column, filters, body);
    }
}
