using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Ast;

/// <summary>
/// {% for target in iter [if cond] [recursive] %}: the body runs in its own scope, fresh each iteration, so
/// assignments inside never leak out (templates use namespace() for that); the else block runs when nothing iterated.
/// </summary>
internal sealed class ForStmt(int line, int column, Target target, Expr iter, Expr? condition, Stmt[] body, Stmt[]? otherwise, bool recursive)
    : Stmt(line, column)
{
    public bool Recursive { get; } = recursive;

    public override Flow Exec(RenderContext ctx)
    {
        Loop(ctx, iter.Eval(ctx), 0);
        return Flow.Normal;
    }

    /// <summary>Renders the loop over <paramref name="value"/> into the current output (recursive calls of loop() reuse it).</summary>
    public void Loop(RenderContext ctx, object? value, int depth0)
    {
        IReadOnlyList<object?> items;
        try
        {
            items = Ops.Iterate(value);
        }
        catch (PyError e) { throw RenderContext.Wrap(iter, e); }
        var outer = ctx.Scope;
        var scope = new Scope(outer);
        ctx.Scope = scope;
        try
        {
            if (condition is not null) items = Filter(ctx, scope, items);
            var loop = new LoopContext(this, items, depth0);
            for (var i = 0; i < items.Count; i++)
            {
                ctx.CountIteration(this);
                scope.Clear();
                target.Assign(ctx, items[i]);
                loop.Index0 = i;
                scope.Set("loop", loop);
                if (Run(body, ctx) == Flow.Break) break;
            }
            if (items.Count == 0 && otherwise is not null)
            {
                ctx.Scope = outer;
                Run(otherwise, ctx);
            }
        }
        finally
        {
            ctx.Scope = outer;
        }
    }

    private List<object?> Filter(RenderContext ctx, Scope scope, IReadOnlyList<object?> items)
    {
        var kept = new List<object?>();
        foreach (var item in items)
        {
            ctx.CountIteration(this);
            scope.Clear();
            target.Assign(ctx, item);
            if (Ops.Truthy(condition!.Eval(ctx))) kept.Add(item);
        }
        return kept;
    }
}
