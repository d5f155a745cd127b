using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Ast;

/// <summary>Any node of the parsed tree, with the 1-based position of its first character.</summary>
internal abstract class Node(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;
}

/// <summary>An expression; evaluation reads the render's context and never mutates the node.</summary>
internal abstract class Expr(int line, int column) : Node(line, column)
{
    /// <summary>Levels of nodes below and including this one; the parser bounds it so evaluation cannot exhaust the stack.</summary>
    public int Height { get; set; } = 1;

    public abstract object? Eval(RenderContext ctx);
}

internal sealed class ConstExpr(int line, int column, object? value) : Expr(line, column)
{
    public object? Value { get; } = value;

    public override object? Eval(RenderContext ctx) => Value;
}

internal sealed class NameExpr(int line, int column, string name) : Expr(line, column)
{
    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        if (ctx.Scope.TryGet(Name, out var v)) return v;
        return Globals.TryGet(Name, out var g) ? g : Undefined.Named(Name);
    }
}

internal sealed class ListExpr(int line, int column, Expr[] items) : Expr(line, column)
{
    public Expr[] Items { get; } = items;

    public override object? Eval(RenderContext ctx)
    {
        var list = new PyList(Items.Length);
        foreach (var item in Items) list.Add(item.Eval(ctx));
        return list;
    }
}

internal sealed class TupleExpr(int line, int column, Expr[] items) : Expr(line, column)
{
    public Expr[] Items { get; } = items;

    public override object? Eval(RenderContext ctx)
    {
        var values = new object?[Items.Length];
        for (var i = 0; i < values.Length; i++) values[i] = Items[i].Eval(ctx);
        return new PyTuple(values);
    }
}

internal sealed class DictExpr(int line, int column, Expr[] keys, Expr[] values) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var dict = new PyDict(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            var key = keys[i].Eval(ctx);
            if (key is PyList or PyDict) throw RenderContext.Wrap(keys[i], new PyError($"unhashable type: '{PyRepr.TypeName(key)}'"));
            dict[key] = values[i].Eval(ctx);
        }
        return dict;
    }
}

/// <summary>a if test else b; without else an undefined value.</summary>
internal sealed class CondExpr(int line, int column, Expr test, Expr then, Expr? otherwise) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
        => Ops.Truthy(test.Eval(ctx)) ? then.Eval(ctx) : otherwise is null ? Undefined.Anonymous : otherwise.Eval(ctx);
}

/// <summary>and/or return an operand, as in Python.</summary>
internal sealed class LogicalExpr(int line, int column, bool isAnd, Expr left, Expr right) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var l = left.Eval(ctx);
        return Ops.Truthy(l) == isAnd ? right.Eval(ctx) : l;
    }
}

internal sealed class NotExpr(int line, int column, Expr operand) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx) => !Ops.Truthy(operand.Eval(ctx));
}

internal sealed class UnaryExpr(int line, int column, bool negate, Expr operand) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var v = operand.Eval(ctx);
        try
        {
            return negate ? Ops.Negate(v) : Ops.Plus(v);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
        catch (OverflowException) { throw RenderContext.Wrap(this, new PyError("integer overflow")); }
    }
}

/// <summary>+ - * / // % ** with Python semantics.</summary>
internal sealed class BinaryExpr(int line, int column, string op, Expr left, Expr right) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var l = left.Eval(ctx);
        var r = right.Eval(ctx);
        try
        {
            return Ops.Binary(op, l, r, ctx.MaxLength);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

/// <summary>~ joins the str() of both sides.</summary>
internal sealed class ConcatExpr(int line, int column, Expr[] parts) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var part in parts)
        {
            sb.Append(PyRepr.Str(part.Eval(ctx)));
            if (sb.Length > ctx.MaxLength) throw RenderContext.Limit(this, $"string longer than {ctx.MaxLength} characters");
        }
        return sb.ToString();
    }
}

/// <summary>A chain of comparisons (a &lt; b &lt;= c), each operand evaluated once, as in Python.</summary>
internal sealed class CompareExpr(int line, int column, Expr first, string[] ops, Expr[] operands) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var left = first.Eval(ctx);
        for (var i = 0; i < ops.Length; i++)
        {
            var right = operands[i].Eval(ctx);
            bool ok;
            try
            {
                ok = ops[i] switch
                {
                    "==" => Ops.PyEquals(left, right),
                    "!=" => !Ops.PyEquals(left, right),
                    "<" => Ops.Compare(left, right, "<") < 0,
                    "<=" => Ops.Compare(left, right, "<=") <= 0,
                    ">" => Ops.Compare(left, right, ">") > 0,
                    ">=" => Ops.Compare(left, right, ">=") >= 0,
                    "in" => Ops.Contains(right, left),
                    _ => !Ops.Contains(right, left),
                };
            }
            catch (PyError e) { throw RenderContext.Wrap(this, e); }
            if (!ok) return false;
            left = right;
        }
        return true;
    }
}
