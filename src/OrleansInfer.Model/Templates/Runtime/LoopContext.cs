using OrleansInfer.Model.Templates.Ast;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>The loop variable of a for loop; calling it (recursive loops) renders the loop over new items one level deeper.</summary>
internal sealed class LoopContext(ForStmt loop, IReadOnlyList<object?> items, int depth0) : PyCallable
{
    private object? _lastChanged = Undefined.Anonymous;

    public int Index0 { get; set; }

    public object? Attribute(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => (long)depth0 + 1,
        "depth0" => (long)depth0,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Hinted("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : Undefined.Hinted("there is no next item"),
        "cycle" => new BuiltinFunction("cycle", (_, args) =>
        {
            if (args.Count == 0) throw new PyError("no items for cycling given");
            return args.Positional[Index0 % args.Count];
        }),
        "changed" => new BuiltinFunction("changed", (_, args) =>
        {
            var value = new PyTuple(args.Positional);
            if (Ops.PyEquals(value, _lastChanged)) return false;
            _lastChanged = value;
            return true;
        }),
        _ => Undefined.Missing(this, name),
    };

    public override object? Call(RenderContext ctx, Args args)
    {
        if (!loop.Recursive) throw new PyError("The loop must be marked as recursive ('recursive') to be called.");
        if (args.Count != 1) throw new PyError("loop() takes exactly one argument");
        ctx.Enter();
        try
        {
            return ctx.Capture(c => loop.Loop(c, args.Positional[0], depth0 + 1));
        }
        finally
        {
            ctx.Leave();
        }
    }

    public override string Describe() => "<LoopContext>";
}
