using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>The functions every template sees unless a variable shadows them (Jinja2's globals plus transformers').</summary>
internal static class Globals
{
    /// <summary>The sandbox refuses ranges longer than this (Jinja2's MAX_RANGE).</summary>
    public const long MaxRange = 100_000;

    private static readonly Dictionary<string, object?> Table = new(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", (_, a) => Range(a)),
        ["namespace"] = new BuiltinFunction("namespace", (_, a) => MakeNamespace(a)),
        ["dict"] = new BuiltinFunction("dict", (_, a) => MakeDict(a)),
        ["raise_exception"] = new BuiltinFunction("raise_exception", (_, a) => throw new RaisedError(PyRepr.Str(a.Get(0, "message")))),
        ["strftime_now"] = new BuiltinFunction("strftime_now", (ctx, a) => Strftime.Format(ctx.Options.Clock.GetLocalNow(), PyRepr.Str(a.Required(0, "format", "strftime_now")))),
        ["joiner"] = new BuiltinFunction("joiner", (_, a) => Joiner(PyRepr.Str(a.Get(0, "sep", ", ")))),
        ["cycler"] = new BuiltinFunction("cycler", (_, a) => new CyclerObject(a.Positional)),
    };

    public static bool TryGet(string name, out object? value) => Table.TryGetValue(name, out value);

    private static PyList Range(Args a)
    {
        long start = 0, stop, step = 1;
        if (a.Count == 0) throw new PyError("range expected at least 1 argument, got 0");
        if (a.Count == 1) stop = Ops.ToLong(a.Positional[0]);
        else
        {
            start = Ops.ToLong(a.Positional[0]);
            stop = Ops.ToLong(a.Positional[1]);
            if (a.Count > 2) step = Ops.ToLong(a.Positional[2]);
        }
        if (step == 0) throw new PyError("range() arg 3 must not be zero");
        var count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (count > MaxRange) throw new LimitError($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
        var list = new PyList((int)count);
        for (var i = 0L; i < count; i++) list.Add(start + i * step);
        return list;
    }

    private static Namespace MakeNamespace(Args a)
    {
        var ns = new Namespace();
        foreach (var p in a.Positional)
        {
            if (p is PyDict d) foreach (var pair in d.Items) ns.Attributes[pair.Key] = pair.Value;
        }
        if (a.Named is not null) foreach (var pair in a.Named) ns.Attributes[pair.Key] = pair.Value;
        return ns;
    }

    private static PyDict MakeDict(Args a)
    {
        var d = new PyDict();
        if (a.Count > 0)
        {
            if (a.Positional[0] is PyDict src) foreach (var pair in src.Items) d[pair.Key] = pair.Value;
            else foreach (var item in Ops.Iterate(a.Positional[0]))
            {
                var kv = Ops.Iterate(item);
                d[kv[0]] = kv[1];
            }
        }
        if (a.Named is not null) foreach (var pair in a.Named) d[pair.Key] = pair.Value;
        return d;
    }

    private static BuiltinFunction Joiner(string sep)
    {
        var used = false;
        return new BuiltinFunction("joiner", (_, _) =>
        {
            if (!used) { used = true; return ""; }
            return sep;
        });
    }

    /// <summary>cycler(a, b): .next() walks the items round, .current is the one next() will return.</summary>
    internal sealed class CyclerObject(object?[] items) : PyCallable
    {
        private int _pos;

        public object? Current => items.Length == 0 ? Undefined.Anonymous : items[_pos];

        public object? Next()
        {
            var v = Current;
            _pos = (_pos + 1) % Math.Max(1, items.Length);
            return v;
        }

        public void Reset() => _pos = 0;

        public override object? Call(RenderContext ctx, Args args) => throw new PyError("'Cycler' object is not callable");
    }
}
