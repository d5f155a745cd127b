using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Ast;

/// <summary>How a statement ended: normally, or by break / continue travelling up to the enclosing loop.</summary>
internal enum Flow
{
    Normal,
    Break,
    Continue,
}

internal abstract class Stmt(int line, int column) : Node(line, column)
{
    public abstract Flow Exec(RenderContext ctx);

    public static Flow Run(Stmt[] body, RenderContext ctx)
    {
        foreach (var stmt in body)
        {
            var flow = stmt.Exec(ctx);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }
}

internal sealed class TextStmt(int line, int column, string text) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        ctx.Write(text, this);
        return Flow.Normal;
    }
}

internal sealed class OutputStmt(int line, int column, Expr value) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        ctx.Write(PyRepr.Str(value.Eval(ctx)), value);
        return Flow.Normal;
    }
}

/// <summary>if / elif / else; runs in the enclosing scope, so assignments inside leak out as in Jinja.</summary>
internal sealed class IfStmt(int line, int column, Expr[] tests, Stmt[][] bodies, Stmt[]? otherwise) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        for (var i = 0; i < tests.Length; i++)
        {
            if (Ops.Truthy(tests[i].Eval(ctx))) return Run(bodies[i], ctx);
        }
        return otherwise is null ? Flow.Normal : Run(otherwise, ctx);
    }
}

internal sealed class BreakStmt(int line, int column, bool isBreak) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx) => isBreak ? Flow.Break : Flow.Continue;
}

/// <summary>{% set target = value %}.</summary>
internal sealed class SetStmt(int line, int column, Target target, Expr value) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        target.Assign(ctx, value.Eval(ctx));
        return Flow.Normal;
    }
}

/// <summary>{% set x %}body{% endset %}, optionally filtered: x is the rendered body.</summary>
internal sealed class SetBlockStmt(int line, int column, Target target, Stmt[] body, FilterExpr[] filters) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        object? value = ctx.Capture(c => Run(body, c));
        foreach (var f in filters) value = f.Apply(ctx, value);
        target.Assign(ctx, value);
        return Flow.Normal;
    }
}

/// <summary>{% filter name %}body{% endfilter %}.</summary>
internal sealed class FilterBlockStmt(int line, int column, FilterExpr[] filters, Stmt[] body) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        object? value = ctx.Capture(c => Run(body, c));
        foreach (var f in filters) value = f.Apply(ctx, value);
        ctx.Write(PyRepr.Str(value), this);
        return Flow.Normal;
    }
}

/// <summary>{% with a = 1 %}body{% endwith %}: the names exist only inside.</summary>
internal sealed class WithStmt(int line, int column, Target[] targets, Expr[] values, Stmt[] body) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        var outer = ctx.Scope;
        var evaluated = new object?[values.Length];
        for (var i = 0; i < values.Length; i++) evaluated[i] = values[i].Eval(ctx);
        ctx.Scope = new Scope(outer);
        try
        {
            for (var i = 0; i < targets.Length; i++) targets[i].Assign(ctx, evaluated[i]);
            return Run(body, ctx);
        }
        finally
        {
            ctx.Scope = outer;
        }
    }
}

/// <summary>{% macro name(params) %}: binds a macro closing over the scope where it is defined.</summary>
internal sealed class MacroStmt(int line, int column, MacroDef def) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        ctx.Scope.Set(def.Name, new Macro(def, ctx.Scope));
        return Flow.Normal;
    }
}

/// <summary>{% call(params) macro(args) %}body{% endcall %}: the macro gets the body as caller().</summary>
internal sealed class CallBlockStmt(int line, int column, Expr callee, ArgList args, MacroDef caller) : Stmt(line, column)
{
    public override Flow Exec(RenderContext ctx)
    {
        var fn = callee.Eval(ctx);
        var values = args.Eval(ctx);
        var named = new List<KeyValuePair<string, object?>>(values.Named ?? []) { new("caller", new Macro(caller, ctx.Scope)) };
        try
        {
            var result = fn switch
            {
                PyCallable c => c.Call(ctx, new Args(values.Positional, [.. named])),
                Undefined u => throw u.Error(),
                _ => throw new PyError($"'{PyRepr.TypeName(fn)}' object is not callable"),
            };
            ctx.Write(PyRepr.Str(result), this);
        }
        catch (PyError e) { throw RenderContext.Wrap(this, e); }
        return Flow.Normal;
    }
}
