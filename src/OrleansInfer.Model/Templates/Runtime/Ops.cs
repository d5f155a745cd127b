using OrleansInfer.Model.Templates.Python;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>Python truthiness, equality and ordering of template values.</summary>
internal static partial class Ops
{
    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0,
        PyList l => l.Count > 0,
        PyDict d => d.Count > 0,
        PyTuple t => t.Items.Length > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new PyError($"must be real number, not {PyRepr.TypeName(v)}"),
    };

    public static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new PyError($"'{PyRepr.TypeName(v)}' object cannot be interpreted as an integer"),
    };

    public static bool PyEquals(object? a, object? b)
    {
        if (a is string sa) return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        switch (a)
        {
            case null: return b is null;
            case Undefined: return b is Undefined;
            case PyList la: return b is PyList lb && SequenceEquals(la, lb);
            case PyTuple ta: return b is PyTuple tb && SequenceEquals(ta.Items, tb.Items);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count) return false;
                foreach (var pair in da.Items)
                {
                    if (!db.TryGet(pair.Key, out var other) || !PyEquals(pair.Value, other)) return false;
                }
                return true;
            default: return ReferenceEquals(a, b) || Equals(a, b);
        }
    }

    private static bool SequenceEquals(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (!PyEquals(a[i], b[i])) return false;
        }
        return true;
    }

    /// <summary>Python's ordering (&lt; and friends); mixed types are a TypeError naming <paramref name="op"/>.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a).CompareTo(ToDouble(b));
            return ToLong(a).CompareTo(ToLong(b));
        }
        if (a is string sa && b is string sb) return Math.Sign(string.CompareOrdinal(sa, sb));
        if (a is PyList la && b is PyList lb) return CompareSequences(la, lb, op);
        if (a is PyTuple ta && b is PyTuple tb) return CompareSequences(ta.Items, tb.Items, op);
        throw new PyError($"'{op}' not supported between instances of '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");
    }

    private static int CompareSequences(IReadOnlyList<object?> a, IReadOnlyList<object?> b, string op)
    {
        for (var i = 0; i < a.Count && i < b.Count; i++)
        {
            if (!PyEquals(a[i], b[i])) return Compare(a[i], b[i], op);
        }
        return a.Count.CompareTo(b.Count);
    }

    /// <summary>Python's "in".</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub) throw new PyError($"'in <string>' requires string as left operand, not {PyRepr.TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case PyDict d: return d.ContainsKey(item);
            case Namespace: throw new PyError("argument of type 'Namespace' is not iterable");
            case Undefined: return false;
            case null or long or double or bool: throw new PyError($"argument of type '{PyRepr.TypeName(container)}' is not iterable");
        }
        foreach (var x in Iterate(container))
        {
            if (PyEquals(x, item)) return true;
        }
        return false;
    }

    /// <summary>Python's iter(): lists and tuples by item, dicts by key, strings by character.</summary>
    public static IReadOnlyList<object?> Iterate(object? value)
    {
        switch (value)
        {
            case PyList l: return l;
            case PyTuple t: return t.Items;
            case PyDict d:
                var keys = new object?[d.Count];
                for (var i = 0; i < keys.Length; i++) keys[i] = d.At(i).Key;
                return keys;
            case string s:
                var chars = new List<object?>(s.Length);
                for (var i = 0; i < s.Length; i++)
                {
                    if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length) { chars.Add(s.Substring(i, 2)); i++; }
                    else chars.Add(s[i].ToString());
                }
                return chars;
            case Undefined: return [];
            default: throw new PyError($"'{PyRepr.TypeName(value)}' object is not iterable");
        }
    }

    public static int Length(object? value) => value switch
    {
        string s => s.Length,
        PyList l => l.Count,
        PyTuple t => t.Items.Length,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw new PyError($"object of type '{PyRepr.TypeName(value)}' has no len()"),
    };
}
