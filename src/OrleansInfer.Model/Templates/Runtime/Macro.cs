using OrleansInfer.Model.Templates.Ast;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>A macro's parsed definition; <see cref="UsesVarargs"/> and friends mirror Jinja2, which only accepts extra arguments when the body reads them.</summary>
internal sealed class MacroDef(string name, string[] parameters, Expr?[] defaults, Stmt[] body, bool usesVarargs, bool usesKwargs, bool usesCaller)
{
    public string Name { get; } = name;

    public string[] Parameters { get; } = parameters;

    public Expr?[] Defaults { get; } = defaults;

    public Stmt[] Body { get; } = body;

    public bool UsesVarargs { get; } = usesVarargs;

    public bool UsesKwargs { get; } = usesKwargs;

    public bool UsesCaller { get; } = usesCaller;
}

/// <summary>A macro bound to the scope it was defined in; calling it renders its body into a string.</summary>
internal sealed class Macro(MacroDef def, Scope closure) : PyCallable
{
    public override object? Call(RenderContext ctx, Args args)
    {
        var scope = new Scope(closure, def.Parameters.Length + 2);
        var positional = args.Positional;
        var p = def.Parameters;
        if (positional.Length > p.Length && !def.UsesVarargs)
            throw new PyError($"macro '{def.Name}' takes not more than {p.Length} argument(s)");
        var kwargs = new PyDict();
        object? caller = null;
        if (args.Named is not null)
        {
            foreach (var pair in args.Named)
            {
                var index = Array.IndexOf(p, pair.Key);
                if (index >= 0)
                {
                    if (index < positional.Length) throw new PyError($"macro '{def.Name}' got multiple values for argument '{pair.Key}'");
                    continue;
                }
                if (pair.Key == "caller" && def.UsesCaller) { caller = pair.Value; continue; }
                if (!def.UsesKwargs) throw new PyError($"macro '{def.Name}' takes no keyword argument '{pair.Key}'");
                kwargs[pair.Key] = pair.Value;
            }
        }
        var outer = ctx.Scope;
        ctx.Enter();
        ctx.Scope = scope;
        try
        {
            for (var i = 0; i < p.Length; i++)
            {
                object? value;
                if (i < positional.Length) value = positional[i];
                else if (args.TryNamed(p[i], out var named)) value = named;
                else if (def.Defaults[i] is { } d) value = d.Eval(ctx);
                else value = Undefined.Hinted($"parameter '{p[i]}' was not provided");
                scope.Set(p[i], value);
            }
            if (def.UsesVarargs) scope.Set("varargs", new PyTuple(positional.Length > p.Length ? positional[p.Length..] : []));
            if (def.UsesKwargs) scope.Set("kwargs", kwargs);
            if (def.UsesCaller) scope.Set("caller", caller ?? Undefined.Hinted("No caller defined"));
            return ctx.Capture(c => Stmt.Run(def.Body, c));
        }
        finally
        {
            ctx.Scope = outer;
            ctx.Leave();
        }
    }

    public override string Describe() => $"<Macro '{def.Name}'>";
}
