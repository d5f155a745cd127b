using OrleansInfer.Model.Templates.Python;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>The arguments of one call: positional values and keyword pairs in call order.</summary>
internal readonly struct Args(object?[] positional, KeyValuePair<string, object?>[]? named)
{
    public static readonly Args None = new([], null);

    public object?[] Positional { get; } = positional;

    public KeyValuePair<string, object?>[]? Named { get; } = named;

    public int Count => Positional.Length;

    /// <summary>Binds parameter <paramref name="name"/> at <paramref name="index"/> as Python binds it: positional, then keyword, then the default.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        if (index < Positional.Length) return Positional[index];
        return TryNamed(name, out var v) ? v : fallback;
    }

    public bool Has(int index, string name) => index < Positional.Length || TryNamed(name, out _);

    public bool TryNamed(string name, out object? value)
    {
        if (Named is not null)
        {
            foreach (var pair in Named)
            {
                if (pair.Key == name) { value = pair.Value; return true; }
            }
        }
        value = null;
        return false;
    }

    public object? Required(int index, string name, string function)
    {
        if (Has(index, name)) return Get(index, name);
        throw new PyError($"{function}() missing required argument '{name}'");
    }
}

/// <summary>Anything a template can call: globals, bound methods, macros, caller, loop.cycle.</summary>
internal abstract class PyCallable
{
    public abstract object? Call(RenderContext ctx, Args args);

    public virtual string Describe() => "<function>";
}

/// <summary>A built-in function or bound method implemented by a delegate.</summary>
internal sealed class BuiltinFunction(string name, Func<RenderContext, Args, object?> body) : PyCallable
{
    public string Name { get; } = name;

    public override object? Call(RenderContext ctx, Args args) => body(ctx, args);

    public override string Describe() => $"<built-in function {Name}>";
}

/// <summary>A method looked up on a str, list or dict value, called later (x.upper()).</summary>
internal sealed class BoundMethod(object? self, string name) : PyCallable
{
    public override object? Call(RenderContext ctx, Args args) => Library.Methods.Call(ctx, self, name, args);

    public override string Describe() => $"<built-in method {name} of {PyRepr.TypeName(self)} object>";
}
