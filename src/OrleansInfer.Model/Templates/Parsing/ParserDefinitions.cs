using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Lexing;
using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Parsing;

/// <summary>Macros, call blocks, assignment targets and filter chains.</summary>
internal sealed partial class Parser
{
    private MacroStmt ParseMacro(Token tag)
    {
        _s.Next();
        var name = _s.Expect(TokenKind.Name).Value;
        var def = ParseMacroDef(tag, name, "endmacro", "macro", true);
        return new MacroStmt(tag.Line, tag.Column, def);
    }

    private CallBlockStmt ParseCallBlock(Token tag)
    {
        _s.Next();
        (string[] Names, Expr?[] Defaults) signature = ([], []);
        if (_s.Current.IsOperator("(")) signature = ParseSignature();
        var at = _s.Current;
        if (ParseExpression() is not CallExpr call) throw TokenStream.Error("expected call", at);
        var def = ParseMacroDef(tag, "caller", "endcall", "call", false, signature);
        return new CallBlockStmt(tag.Line, tag.Column, call.Callee, call.Args, def);
    }

    /// <summary>Reads "(a, b=1)" (when <paramref name="withSignature"/>), the block end, and the body up to <paramref name="endTag"/>.</summary>
    private MacroDef ParseMacroDef(Token tag, string name, string endTag, string blockName, bool withSignature, (string[] Names, Expr?[] Defaults)? given = null)
    {
        var (names, defaults) = given ?? ([], []);
        if (withSignature) (names, defaults) = ParseSignature();
        _s.Expect(TokenKind.BlockEnd);
        var soft = _soft;
        _soft = 0;
        _macroNames.Push([]);
        try
        {
            var (body, _) = ParseBody([endTag], blockName);
            SkipToBlockEnd();
            var used = _macroNames.Peek();
            return new MacroDef(name, names, defaults, body, used.Contains("varargs"), used.Contains("kwargs"), used.Contains("caller"));
        }
        finally
        {
            _macroNames.Pop();
            _soft = soft;
        }
    }

    private (string[] Names, Expr?[] Defaults) ParseSignature()
    {
        var names = new List<string>();
        var defaults = new List<Expr?>();
        _s.ExpectOperator("(");
        while (!_s.Current.IsOperator(")"))
        {
            if (names.Count > 0) _s.ExpectOperator(",");
            if (_s.Current.IsOperator(")")) break;
            var param = _s.Expect(TokenKind.Name);
            names.Add(param.Value);
            if (_s.SkipOperator("=")) defaults.Add(ParseExpression());
            else if (defaults.Count > 0 && defaults[^1] is not null) throw TokenStream.Error("non-default argument follows default argument", param);
            else defaults.Add(null);
        }
        _s.Next();
        return ([.. names], [.. defaults]);
    }

    /// <summary>A name, a tuple of names (a, b / (a, b)), or with <paramref name="withNamespace"/> ns.attr.</summary>
    private Target ParseAssignTarget(bool withNamespace, string[]? extraEnd)
    {
        var first = _s.Current;
        if (withNamespace && first.Kind == TokenKind.Name && _s.Peek.IsOperator("."))
        {
            _s.Next();
            _s.Next();
            var attr = _s.Expect(TokenKind.Name);
            return new NamespaceTarget(first.Line, first.Column, first.Value, attr.Value);
        }
        var items = new List<Target>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) _s.ExpectOperator(",");
            var t = _s.Current;
            if (t.Kind == TokenKind.BlockEnd || t.IsOperator("=") || t.IsOperator(")") || (extraEnd is not null && t.Kind == TokenKind.Name && Array.IndexOf(extraEnd, t.Value) >= 0))
                break;
            items.Add(ParseTargetPrimary());
            if (_s.Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (items.Count == 0) throw TokenStream.Error($"can't assign to {_s.Current.Describe()}", _s.Current);
        return isTuple ? new TupleTarget(first.Line, first.Column, [.. items]) : items[0];
    }

    private Target ParseTargetPrimary()
    {
        var t = _s.Current;
        if (t.IsOperator("("))
        {
            _s.Next();
            var inner = ParseAssignTarget(false, null);
            _s.ExpectOperator(")");
            return inner;
        }
        var name = _s.Expect(TokenKind.Name);
        if (name.Value is "true" or "false" or "none" or "True" or "False" or "None")
            throw TokenStream.Error($"can't assign to constant '{name.Value}'", name);
        return new NameTarget(name.Line, name.Column, name.Value);
    }

    /// <summary>name(args) | name2 ... as in {% filter %} and {% set x | f %}; <paramref name="startInline"/> means no leading pipe.</summary>
    private FilterExpr[] ParseFilterChain(bool startInline)
    {
        var filters = new List<FilterExpr>();
        while (startInline || _s.Current.IsOperator("|"))
        {
            if (!startInline) _s.Next();
            startInline = false;
            filters.Add(ParseFilterCall(null));
        }
        return [.. filters];
    }

    /// <summary>The filter name (dotted allowed) and its arguments; unknown names fail here unless inside an if.</summary>
    private FilterExpr ParseFilterCall(Expr? value)
    {
        var token = _s.Expect(TokenKind.Name);
        var name = token.Value;
        while (_s.Current.IsOperator("."))
        {
            _s.Next();
            name += "." + _s.Expect(TokenKind.Name).Value;
        }
        var args = _s.Current.IsOperator("(") ? ParseCallArgs() : ArgList.Empty;
        var fn = Filters.Find(name);
        if (fn is null)
        {
            if (_soft == 0) throw TokenStream.Error($"No filter named '{name}'.", token);
            var message = $"No filter named '{name}' found.";
            fn = (_, _, _) => throw new PyError(message);
        }
        return Grow(new FilterExpr(token.Line, token.Column, value, fn, args), [value, .. ArgExprs(args)]);
    }
}
