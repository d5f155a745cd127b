namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>
/// One level of Jinja scoping: the render's root, a for-loop body, a macro call. Lookups walk outward; assignments
/// stay in the scope where they happen, which is why a set inside a for loop does not leak out.
/// </summary>
internal sealed class Scope(Scope? parent, int capacity = 4)
{
    private readonly Dictionary<string, object?> _vars = new(capacity, StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars.TryGetValue(name, out value)) return true;
        }
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;

    public void Clear() => _vars.Clear();
}
