using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Ast;

/// <summary>Positional and keyword argument expressions of a call, filter or test.</summary>
internal sealed class ArgList(Expr[] positional, KeyValuePair<string, Expr>[] named)
{
    public static readonly ArgList Empty = new([], []);

    public Expr[] Positional { get; } = positional;

    public KeyValuePair<string, Expr>[] Named { get; } = named;

    public Args Eval(RenderContext ctx)
    {
        if (Positional.Length == 0 && Named.Length == 0) return Args.None;
        var pos = Positional.Length == 0 ? [] : new object?[Positional.Length];
        for (var i = 0; i < pos.Length; i++) pos[i] = Positional[i].Eval(ctx);
        KeyValuePair<string, object?>[]? named = null;
        if (Named.Length > 0)
        {
            named = new KeyValuePair<string, object?>[Named.Length];
            for (var i = 0; i < named.Length; i++) named[i] = new(Named[i].Key, Named[i].Value.Eval(ctx));
        }
        return new Args(pos, named);
    }
}

/// <summary>obj.name: an attribute, else an item (Jinja2's getattr).</summary>
internal sealed class GetAttrExpr(int line, int column, Expr target, string name) : Expr(line, column)
{
    public Expr Target { get; } = target;

    public string Name { get; } = name;

    public override object? Eval(RenderContext ctx)
    {
        var obj = Target.Eval(ctx);
        try
        {
            return Access.GetAttr(obj, Name);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

/// <summary>obj[key]: an item, else an attribute (Jinja2's getitem).</summary>
internal sealed class GetItemExpr(int line, int column, Expr target, Expr key) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        var k = key.Eval(ctx);
        try
        {
            return Access.GetItem(obj, k);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

internal sealed class SliceExpr(int line, int column, Expr target, Expr? start, Expr? stop, Expr? step) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        var a = start?.Eval(ctx);
        var b = stop?.Eval(ctx);
        var c = step?.Eval(ctx);
        try
        {
            return Access.Slice(obj, a, b, c);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

internal sealed class CallExpr(int line, int column, Expr callee, ArgList args) : Expr(line, column)
{
    public Expr Callee { get; } = callee;

    public ArgList Args { get; } = args;

    public override object? Eval(RenderContext ctx)
    {
        object? fn;
        if (Callee is GetAttrExpr attr)
        {
            // x.method(...) on a str, list or dict calls the method without materializing a bound method.
            var self = attr.Target.Eval(ctx);
            if (Methods.IsSafeMethod(self, attr.Name))
            {
                var margs = Args.Eval(ctx);
                try
                {
                    return Methods.Call(ctx, self, attr.Name, margs);
                }
                catch (PyError e) { throw RenderContext.Wrap(this, e); }
            }
            try
            {
                fn = Access.GetAttr(self, attr.Name);
            }
            catch (PyError e) { throw RenderContext.Wrap(attr, e); }
        }
        else
        {
            fn = Callee.Eval(ctx);
        }
        var values = Args.Eval(ctx);
        try
        {
            return fn switch
            {
                PyCallable c => c.Call(ctx, values),
                Undefined u => throw u.Error(),
                _ => throw new PyError($"'{PyRepr.TypeName(fn)}' object is not callable"),
            };
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

internal delegate object? FilterFn(RenderContext ctx, object? value, Args args);

internal delegate bool TestFn(RenderContext ctx, object? value, Args args);

/// <summary>value | name(args): the filter function was resolved when parsing.</summary>
internal sealed class FilterExpr(int line, int column, Expr? value, FilterFn filter, ArgList args) : Expr(line, column)
{
    /// <summary>Null inside a filter block, whose body is the value.</summary>
    public Expr? Value { get; } = value;

    public override object? Eval(RenderContext ctx) => Apply(ctx, Value!.Eval(ctx));

    public object? Apply(RenderContext ctx, object? input)
    {
        var a = args.Eval(ctx);
        try
        {
            return filter(ctx, input, a);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}

/// <summary>value is [not] name(args).</summary>
internal sealed class TestExpr(int line, int column, Expr value, TestFn test, ArgList args, bool negate) : Expr(line, column)
{
    public override object? Eval(RenderContext ctx)
    {
        var v = value.Eval(ctx);
        var a = args.Eval(ctx);
        try
        {
            return test(ctx, v, a) != negate;
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
    }
}
