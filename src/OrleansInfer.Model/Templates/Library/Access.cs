using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>Jinja2's sandboxed getattr / getitem: attribute falls back to item and item to attribute; methods that mutate are unsafe.</summary>
internal static class Access
{
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Error();
            case Namespace ns: return ns.Attributes.TryGet(name, out var nv) ? nv : Undefined.Missing(obj, name);
            case LoopContext loop: return loop.Attribute(name);
        }
        if (Methods.IsSafeMethod(obj, name)) return new BoundMethod(obj, name);
        if (Methods.IsUnsafeMethod(obj, name))
            return Undefined.Hinted($"access to attribute '{name}' of '{PyRepr.TypeName(obj)}' object is unsafe.");
        if (obj is PyDict d && d.TryGet(name, out var v)) return v;
        return Undefined.Missing(obj, name);
    }

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u: throw u.Error();
            case PyDict d:
                if (d.TryGet(key, out var v)) return v;
                break;
            case PyList l when IsIndex(key):
                if (TryIndex(l.Count, key, out var i)) return l[i];
                break;
            case PyTuple t when IsIndex(key):
                if (TryIndex(t.Items.Length, key, out var ti)) return t.Items[ti];
                break;
            case string s when IsIndex(key):
                if (TryIndex(s.Length, key, out var si)) return s[si].ToString();
                break;
            case LoopContext or Namespace when key is string:
                break;
        }
        return key is string name ? GetAttr(obj, name) : Undefined.Missing(obj, key);
    }

    private static bool IsIndex(object? key) => key is long or bool;

    private static bool TryIndex(int count, object? key, out int index)
    {
        var k = Ops.ToLong(key);
        if (k < 0) k += count;
        index = (int)k;
        return k >= 0 && k < count;
    }

    /// <summary>Python slicing of str, list and tuple, negative steps included.</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Error();
        var count = obj switch
        {
            string s => s.Length,
            PyList l => l.Count,
            PyTuple t => t.Items.Length,
            _ => throw new PyError($"'{PyRepr.TypeName(obj)}' object is not subscriptable"),
        };
        var st = step is null ? 1 : Ops.ToLong(step);
        if (st == 0) throw new PyError("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = Clamp(start, count, 0, 0, count);
            hi = Clamp(stop, count, count, 0, count);
        }
        else
        {
            lo = Clamp(start, count, count - 1, -1, count - 1);
            hi = Clamp(stop, count, -1, -1, count - 1);
        }
        var indices = new List<int>();
        for (var i = lo; st > 0 ? i < hi : i > hi; i += st) indices.Add((int)i);
        switch (obj)
        {
            case string s:
                var chars = new char[indices.Count];
                for (var i = 0; i < chars.Length; i++) chars[i] = s[indices[i]];
                return new string(chars);
            case PyList l:
                var list = new PyList(indices.Count);
                foreach (var i in indices) list.Add(l[i]);
                return list;
            default:
                var t = (PyTuple)obj!;
                var items = new object?[indices.Count];
                for (var i = 0; i < items.Length; i++) items[i] = t.Items[indices[i]];
                return new PyTuple(items);
        }
    }

    private static long Clamp(object? value, int count, long fallback, long min, long max)
    {
        if (value is null) return fallback;
        var v = Ops.ToLong(value);
        if (v < 0) v += count;
        return Math.Clamp(v, min, max);
    }
}
