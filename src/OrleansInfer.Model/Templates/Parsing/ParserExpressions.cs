using System.Globalization;
using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Lexing;
using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Parsing;

/// <summary>
/// Expressions with Jinja2's precedence: conditional, or, and, not, comparisons, + -, ~, * / // %, ** (left
/// associative, as in Jinja2), unary, then postfix (attribute, subscript, call) and filters / tests.
/// </summary>
internal sealed partial class Parser
{
    private Expr ParseExpression(bool withCondExpr = true)
    {
        var start = _s.Current;
        Enter(start);
        try
        {
            var expr = ParseOr();
            if (!withCondExpr) return expr;
            while (_s.SkipName("if"))
            {
                _soft++;
                try
                {
                    var test = ParseOr();
                    Expr? otherwise = _s.SkipName("else") ? ParseExpression() : null;
                    expr = Grow(new CondExpr(expr.Line, expr.Column, test, expr, otherwise), test, expr, otherwise);
                }
                finally
                {
                    _soft--;
                }
            }
            return expr;
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Comma-separated expressions; a tuple when there is a comma, else the single expression.</summary>
    private Expr ParseTuple(bool withCondExpr, string[]? extraEnd, bool explicitParens)
    {
        var first = _s.Current;
        var items = new List<Expr>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) _s.ExpectOperator(",");
            var t = _s.Current;
            if (t.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd || t.IsOperator(")") || (extraEnd is not null && t.Kind == TokenKind.Name && Array.IndexOf(extraEnd, t.Value) >= 0))
                break;
            items.Add(ParseExpression(withCondExpr));
            if (_s.Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParens) throw TokenStream.Error($"Expected an expression, got {_s.Current.Describe()}", _s.Current);
        }
        return Grow(new TupleExpr(first.Line, first.Column, [.. items]), [.. items]);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (_s.SkipName("or")) left = Grow2(left, ParseAnd(), (l, r) => new LogicalExpr(l.Line, l.Column, false, l, r));
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (_s.SkipName("and")) left = Grow2(left, ParseNot(), (l, r) => new LogicalExpr(l.Line, l.Column, true, l, r));
        return left;
    }

    private Expr ParseNot()
    {
        var t = _s.Current;
        if (!t.IsName("not")) return ParseCompare();
        _s.Next();
        Enter(t);
        try
        {
            var operand = ParseNot();
            return Grow(new NotExpr(t.Line, t.Column, operand), operand);
        }
        finally
        {
            Leave();
        }
    }

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        List<string>? ops = null;
        List<Expr>? operands = null;
        while (true)
        {
            var t = _s.Current;
            string op;
            if (t.Kind == TokenKind.Operator && t.Value is "==" or "!=" or "<" or "<=" or ">" or ">=") { op = t.Value; _s.Next(); }
            else if (t.IsName("in")) { op = "in"; _s.Next(); }
            else if (t.IsName("not") && _s.Peek.IsName("in")) { op = "not in"; _s.Next(); _s.Next(); }
            else break;
            (ops ??= []).Add(op);
            (operands ??= []).Add(ParseMath1());
        }
        return ops is null ? first : Grow(new CompareExpr(first.Line, first.Column, first, [.. ops], [.. operands!]), [first, .. operands!]);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (_s.Current.Kind == TokenKind.Operator && _s.Current.Value is "+" or "-")
        {
            var op = _s.Next().Value;
            left = Grow2(left, ParseConcat(), (l, r) => new BinaryExpr(l.Line, l.Column, op, l, r));
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var first = ParseMath2();
        if (!_s.Current.IsOperator("~")) return first;
        var parts = new List<Expr> { first };
        while (_s.SkipOperator("~")) parts.Add(ParseMath2());
        return Grow(new ConcatExpr(first.Line, first.Column, [.. parts]), [.. parts]);
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (_s.Current.Kind == TokenKind.Operator && _s.Current.Value is "*" or "/" or "//" or "%")
        {
            var op = _s.Next().Value;
            left = Grow2(left, ParsePow(), (l, r) => new BinaryExpr(l.Line, l.Column, op, l, r));
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(true);
        while (_s.SkipOperator("**")) left = Grow2(left, ParseUnary(true), (l, r) => new BinaryExpr(l.Line, l.Column, "**", l, r));
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = _s.Current;
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _s.Next();
            Enter(t);
            try
            {
                var operand = ParseUnary(false);
                node = Grow(new UnaryExpr(t.Line, t.Column, t.Value == "-", operand), operand);
            }
            finally
            {
                Leave();
            }
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = _s.Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _s.Next();
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(t.Line, t.Column, true),
                    "false" or "False" => new ConstExpr(t.Line, t.Column, false),
                    "none" or "None" => new ConstExpr(t.Line, t.Column, null),
                    _ => Name(t),
                };
            case TokenKind.String:
                _s.Next();
                var text = t.Value;
                while (_s.Current.Kind == TokenKind.String) text += _s.Next().Value;
                return new ConstExpr(t.Line, t.Column, text);
            case TokenKind.Integer:
                _s.Next();
                return new ConstExpr(t.Line, t.Column, long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? (object)l : double.Parse(t.Value, CultureInfo.InvariantCulture));
            case TokenKind.Float:
                _s.Next();
                return new ConstExpr(t.Line, t.Column, double.Parse(t.Value, CultureInfo.InvariantCulture));
        }
        if (t.IsOperator("(") || t.IsOperator("[") || t.IsOperator("{"))
        {
            _s.Next();
            Enter(t);
            try
            {
                if (t.Value == "(")
                {
                    var inner = ParseTuple(true, null, true);
                    _s.ExpectOperator(")");
                    return inner is TupleExpr tuple ? Grow(tuple, tuple.Items) : inner;
                }
                return t.Value == "[" ? ParseList(t) : ParseDict(t);
            }
            finally
            {
                Leave();
            }
        }
        throw TokenStream.Error($"unexpected {_s.Current.Describe()}", t);
    }

    /// <summary>Most levels an expression tree may have (long chains like a.b.c... or 1+1+... included).</summary>
    public const int MaxExpressionHeight = 400;

    /// <summary>Records <paramref name="node"/>'s height from its children and refuses trees taller than <see cref="MaxExpressionHeight"/>.</summary>
    private static T Grow<T>(T node, params Expr?[] children) where T : Expr
    {
        var h = 0;
        foreach (var c in children)
        {
            if (c is not null && c.Height > h) h = c.Height;
        }
        node.Height = h + 1;
        if (node.Height > MaxExpressionHeight) throw new TemplateSyntaxException($"expression nested deeper than {MaxExpressionHeight}", node.Line, node.Column);
        return node;
    }

    private static Expr Grow2(Expr left, Expr right, Func<Expr, Expr, Expr> make) => Grow(make(left, right), left, right);

    private static Expr[] ArgExprs(ArgList args) => [.. args.Positional, .. args.Named.Select(x => x.Value)];

    private NameExpr Name(Token t)
    {
        if (_macroNames.Count > 0) _macroNames.Peek().Add(t.Value);
        return new NameExpr(t.Line, t.Column, t.Value);
    }

    private ListExpr ParseList(Token open)
    {
        var items = new List<Expr>();
        while (!_s.Current.IsOperator("]"))
        {
            if (items.Count > 0) _s.ExpectOperator(",");
            if (_s.Current.IsOperator("]")) break;
            items.Add(ParseExpression());
        }
        _s.Next();
        return Grow(new ListExpr(open.Line, open.Column, [.. items]), [.. items]);
    }

    private DictExpr ParseDict(Token open)
    {
        var keys = new List<Expr>();
        var values = new List<Expr>();
        while (!_s.Current.IsOperator("}"))
        {
            if (keys.Count > 0) _s.ExpectOperator(",");
            if (_s.Current.IsOperator("}")) break;
            keys.Add(ParseExpression());
            _s.ExpectOperator(":");
            values.Add(ParseExpression());
        }
        _s.Next();
        return Grow(new DictExpr(open.Line, open.Column, [.. keys], [.. values]), [.. keys, .. values]);
    }
}
