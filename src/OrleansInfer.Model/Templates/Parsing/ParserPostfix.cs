using System.Globalization;
using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Lexing;
using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Parsing;

/// <summary>Postfix operators: .attr, [key], [a:b:c], calls, | filters and is tests.</summary>
internal sealed partial class Parser
{
    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = _s.Current;
            if (t.IsOperator("."))
            {
                _s.Next();
                var attr = _s.Current;
                if (attr.Kind == TokenKind.Name) { _s.Next(); node = Grow(new GetAttrExpr(node.Line, node.Column, node, attr.Value), node); }
                else if (attr.Kind == TokenKind.Integer) { _s.Next(); node = Grow(new GetItemExpr(node.Line, node.Column, node, new ConstExpr(attr.Line, attr.Column, long.Parse(attr.Value, CultureInfo.InvariantCulture))), node); }
                else throw TokenStream.Error("expected name or number", attr);
            }
            else if (t.IsOperator("["))
            {
                _s.Next();
                node = ParseSubscript(node, t);
            }
            else if (t.IsOperator("("))
            {
                var args = ParseCallArgs();
                node = Grow(new CallExpr(node.Line, node.Column, node, args), [node, .. ArgExprs(args)]);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr node, Token open)
    {
        Enter(open);
        try
        {
            Expr? start = null;
            if (!_s.Current.IsOperator(":"))
            {
                start = ParseExpression();
                if (!_s.Current.IsOperator(":"))
                {
                    _s.ExpectOperator("]");
                    return Grow(new GetItemExpr(node.Line, node.Column, node, start), node, start);
                }
            }
            _s.Next();
            Expr? stop = null, step = null;
            if (!_s.Current.IsOperator("]") && !_s.Current.IsOperator(":")) stop = ParseExpression();
            if (_s.SkipOperator(":") && !_s.Current.IsOperator("]")) step = ParseExpression();
            _s.ExpectOperator("]");
            return Grow(new SliceExpr(node.Line, node.Column, node, start, stop, step), node, start, stop, step);
        }
        finally
        {
            Leave();
        }
    }

    private ArgList ParseCallArgs()
    {
        var open = _s.ExpectOperator("(");
        Enter(open);
        try
        {
            var positional = new List<Expr>();
            var named = new List<KeyValuePair<string, Expr>>();
            var first = true;
            while (!_s.Current.IsOperator(")"))
            {
                if (!first) _s.ExpectOperator(",");
                first = false;
                if (_s.Current.IsOperator(")")) break;
                var t = _s.Current;
                if (t.IsOperator("*") || t.IsOperator("**")) throw TokenStream.Error("*args and **kwargs in calls are not supported", t);
                if (t.Kind == TokenKind.Name && _s.Peek.IsOperator("="))
                {
                    _s.Next();
                    _s.Next();
                    named.Add(new(t.Value, ParseExpression()));
                }
                else
                {
                    if (named.Count > 0) throw TokenStream.Error("Invalid argument syntax", t);
                    positional.Add(ParseExpression());
                }
            }
            _s.Next();
            return new ArgList([.. positional], [.. named]);
        }
        finally
        {
            Leave();
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            var t = _s.Current;
            if (t.IsOperator("|"))
            {
                _s.Next();
                node = ParseFilterCall(node);
            }
            else if (t.IsName("is"))
            {
                _s.Next();
                node = ParseTest(node);
            }
            else if (t.IsOperator("("))
            {
                var args = ParseCallArgs();
                node = Grow(new CallExpr(node.Line, node.Column, node, args), [node, .. ArgExprs(args)]);
            }
            else
            {
                return node;
            }
        }
    }

    private TestExpr ParseTest(Expr node)
    {
        var negate = _s.SkipName("not");
        var token = _s.Current;
        string name;
        if (token.Kind == TokenKind.Name) name = _s.Next().Value;
        else throw TokenStream.Error($"expected token 'name', got {token.Describe()}", token);
        while (_s.Current.IsOperator("."))
        {
            _s.Next();
            name += "." + _s.Expect(TokenKind.Name).Value;
        }
        var args = ArgList.Empty;
        var c = _s.Current;
        if (c.IsOperator("("))
        {
            args = ParseCallArgs();
        }
        else if ((c.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || c.IsOperator("[") || c.IsOperator("{"))
            && !c.IsName("else") && !c.IsName("or") && !c.IsName("and"))
        {
            if (c.IsName("is")) throw TokenStream.Error("You cannot chain multiple tests with is", c);
            var arg = ParsePostfix(ParsePrimary());
            args = new ArgList([arg], []);
        }
        var fn = Tests.Find(name);
        if (fn is null)
        {
            if (_soft == 0) throw TokenStream.Error($"No test named '{name}'.", token);
            var message = $"No test named '{name}' found.";
            fn = (_, _, _) => throw new PyError(message);
        }
        return Grow(new TestExpr(node.Line, node.Column, node, fn, args, negate), [node, .. ArgExprs(args)]);
    }
}
