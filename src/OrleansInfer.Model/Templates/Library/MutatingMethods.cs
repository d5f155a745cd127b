using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>list.append / extend / insert / pop / remove / reverse / clear and dict.update / pop / popitem / setdefault / clear.</summary>
internal static class MutatingMethods
{
    public static bool IsMutating(string name) => name is "append" or "extend" or "insert" or "pop" or "remove" or "reverse" or "clear"
        or "update" or "popitem" or "setdefault";

    public static object? CallList(RenderContext ctx, PyList l, string name, Args args)
    {
        switch (name)
        {
            case "append":
                Grow(ctx, l, 1);
                l.Add(args.Required(0, "object", name));
                return null;
            case "extend":
                var items = Ops.Iterate(args.Required(0, "iterable", name));
                Grow(ctx, l, items.Count);
                l.AddRange(items);
                return null;
            case "insert":
                var at = Ops.ToLong(args.Required(0, "index", name));
                if (at < 0) at = Math.Max(0, at + l.Count);
                Grow(ctx, l, 1);
                l.Insert((int)Math.Min(at, l.Count), args.Required(1, "object", name));
                return null;
            case "pop":
                if (l.Count == 0) throw new PyError("pop from empty list");
                var index = args.Count > 0 ? Ops.ToLong(args.Positional[0]) : -1;
                if (index < 0) index += l.Count;
                if (index < 0 || index >= l.Count) throw new PyError("pop index out of range");
                var value = l[(int)index];
                l.RemoveAt((int)index);
                return value;
            case "remove":
                var x = args.Required(0, "value", name);
                for (var i = 0; i < l.Count; i++)
                {
                    if (Ops.PyEquals(l[i], x)) { l.RemoveAt(i); return null; }
                }
                throw new PyError("list.remove(x): x not in list");
            case "reverse":
                l.Reverse();
                return null;
            default:
                l.Clear();
                return null;
        }
    }

    public static object? CallDict(RenderContext ctx, PyDict d, string name, Args args)
    {
        switch (name)
        {
            case "update":
                if (args.Count > 0)
                {
                    if (args.Positional[0] is PyDict other) foreach (var pair in other.Items) d[pair.Key] = pair.Value;
                    else foreach (var item in Ops.Iterate(args.Positional[0])) { var kv = Ops.Iterate(item); d[kv[0]] = kv[1]; }
                }
                if (args.Named is not null) foreach (var pair in args.Named) d[pair.Key] = pair.Value;
                if (d.Count > ctx.MaxLength) throw new LimitError($"dict of more than {ctx.MaxLength} items");
                return null;
            case "pop":
                var key = args.Required(0, "key", name);
                if (d.TryGet(key, out var v)) { d.Remove(key); return v; }
                if (args.Count > 1) return args.Positional[1];
                throw new PyError(PyRepr.Repr(key));
            case "popitem":
                if (d.Count == 0) throw new PyError("'popitem(): dictionary is empty'");
                var last = d.At(d.Count - 1);
                d.Remove(last.Key);
                return new PyTuple([last.Key, last.Value]);
            case "setdefault":
                var k = args.Required(0, "key", name);
                if (d.TryGet(k, out var existing)) return existing;
                var fallback = args.Get(1, "default");
                d[k] = fallback;
                return fallback;
            default:
                d.Clear();
                return null;
        }
    }

    /// <summary>Lists grown in a loop are bounded like output, so a template cannot exhaust memory through them.</summary>
    private static void Grow(RenderContext ctx, PyList l, int more)
    {
        if (l.Count + (long)more > ctx.MaxLength) throw new LimitError($"list of more than {ctx.MaxLength} items");
    }
}
