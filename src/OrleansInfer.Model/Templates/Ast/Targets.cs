using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Ast;

/// <summary>The left side of set, for and with: a name, a tuple of targets, or namespace.attribute.</summary>
internal abstract class Target(int line, int column) : Node(line, column)
{
    public abstract void Assign(RenderContext ctx, object? value);
}

internal sealed class NameTarget(int line, int column, string name) : Target(line, column)
{
    public string Name { get; } = name;

    public override void Assign(RenderContext ctx, object? value) => ctx.Scope.Set(Name, value);
}

internal sealed class TupleTarget(int line, int column, Target[] items) : Target(line, column)
{
    public override void Assign(RenderContext ctx, object? value)
    {
        IReadOnlyList<object?> values;
        try
        {
            values = Ops.Iterate(value);
        }
        catch (PyError) { throw RenderContext.Wrap(this, new PyError($"cannot unpack non-iterable {PyRepr.TypeName(value)} object")); }
        if (values.Count > items.Length) throw RenderContext.Wrap(this, new PyError($"too many values to unpack (expected {items.Length})"));
        if (values.Count < items.Length) throw RenderContext.Wrap(this, new PyError($"not enough values to unpack (expected {items.Length}, got {values.Count})"));
        for (var i = 0; i < items.Length; i++) items[i].Assign(ctx, values[i]);
    }
}

/// <summary>{% set ns.attr = value %}: only namespace() objects accept it.</summary>
internal sealed class NamespaceTarget(int line, int column, string name, string attribute) : Target(line, column)
{
    public override void Assign(RenderContext ctx, object? value)
    {
        if (!ctx.Scope.TryGet(name, out var obj) || obj is not Namespace ns)
            throw new TemplateRuntimeException("cannot assign attribute on non-namespace object", Line, Column);
        ns.Attributes[attribute] = value;
    }
}
