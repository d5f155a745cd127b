namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>Dict-key equality and hashing as Python's: numbers by value across bool/int/float, strings ordinally.</summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => Ops.PyEquals(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        string s => s.GetHashCode(StringComparison.Ordinal),
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d => d == Math.Floor(d) && Math.Abs(d) < 9.2e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
        PyTuple t => HashTuple(t),
        _ => obj.GetHashCode(),
    };

    private int HashTuple(PyTuple t)
    {
        var h = new HashCode();
        foreach (var item in t.Items) h.Add(item is null ? 0 : GetHashCode(item));
        return h.ToHashCode();
    }
}
