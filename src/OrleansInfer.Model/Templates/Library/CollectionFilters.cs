using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>Jinja2's filters over sequences and mappings: join, map, select, sort, dictsort, sum and the rest.</summary>
internal static class CollectionFilters
{
    public static void Register(Dictionary<string, FilterFn> t)
    {
        t["length"] = t["count"] = (_, v, _) => (long)Ops.Length(v);
        t["join"] = Join;
        t["first"] = (_, v, _) => Ops.Iterate(v) is { Count: > 0 } l ? l[0] : Undefined.Hinted("No first item, sequence was empty.");
        t["last"] = (_, v, _) => Ops.Iterate(v) is { Count: > 0 } l ? l[^1] : Undefined.Hinted("No last item, sequence was empty.");
        t["items"] = (_, v, _) => Items(v);
        t["list"] = (_, v, _) => new PyList(Ops.Iterate(v));
        t["unique"] = Unique;
        t["map"] = Map;
        t["select"] = (ctx, v, a) => Select(ctx, v, a, false, true);
        t["reject"] = (ctx, v, a) => Select(ctx, v, a, false, false);
        t["selectattr"] = (ctx, v, a) => Select(ctx, v, a, true, true);
        t["rejectattr"] = (ctx, v, a) => Select(ctx, v, a, true, false);
        t["dictsort"] = DictSort;
        t["batch"] = Batch;
        t["slice"] = SliceFilter;
        t["reverse"] = (_, v, _) => v is string s ? new string(s.Reverse().ToArray()) : Reversed(Ops.Iterate(v));
        t["sort"] = Sort;
        t["sum"] = Sum;
        t["min"] = (_, v, a) => MinMax(v, a, -1);
        t["max"] = (_, v, a) => MinMax(v, a, 1);
    }

    private static PyList Reversed(IReadOnlyList<object?> items)
    {
        var r = new PyList(items.Count);
        for (var i = items.Count - 1; i >= 0; i--) r.Add(items[i]);
        return r;
    }

    /// <summary>Jinja2's attribute getter: "a.b.0" walks items, numeric parts as indexes.</summary>
    public static object? Attribute(object? item, string path)
    {
        foreach (var part in path.Split('.'))
            item = Access.GetItem(item, long.TryParse(part, out var n) ? n : part);
        return item;
    }

    private static string Join(RenderContext ctx, object? v, Args a)
    {
        var sep = PyRepr.Str(a.Get(0, "d", ""));
        var attr = a.Get(1, "attribute");
        var items = Ops.Iterate(v);
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(sep);
            sb.Append(PyRepr.Str(attr is null ? items[i] : Attribute(items[i], PyRepr.Str(attr))));
            if (sb.Length > ctx.MaxLength) throw new LimitError($"string longer than {ctx.MaxLength} characters");
        }
        return sb.ToString();
    }

    private static PyList Items(object? v)
    {
        if (v is Undefined) return [];
        if (v is not PyDict d) throw new PyError("Can only get item pairs from a mapping.");
        var r = new PyList(d.Count);
        foreach (var pair in d.Items) r.Add(new PyTuple([pair.Key, pair.Value]));
        return r;
    }

    private static object? SortKey(object? item, object? attribute, bool caseSensitive)
    {
        var key = attribute is null ? item : Attribute(item, PyRepr.Str(attribute));
        return !caseSensitive && key is string s ? s.ToLowerInvariant() : key;
    }

    private static PyList Unique(RenderContext ctx, object? v, Args a)
    {
        var caseSensitive = Ops.Truthy(a.Get(0, "case_sensitive", false));
        var attr = a.Get(1, "attribute");
        var seen = new PyDict();
        var r = new PyList();
        foreach (var item in Ops.Iterate(v))
        {
            var key = SortKey(item, attr, caseSensitive);
            if (seen.ContainsKey(key)) continue;
            seen[key] = null;
            r.Add(item);
        }
        return r;
    }

    private static PyList Map(RenderContext ctx, object? v, Args a)
    {
        var items = Ops.Iterate(v);
        var r = new PyList(items.Count);
        if (a.Count == 0 && a.TryNamed("attribute", out var attr))
        {
            var hasDefault = a.TryNamed("default", out var fallback);
            foreach (var item in items)
            {
                var x = Attribute(item, PyRepr.Str(attr));
                r.Add(x is Undefined && hasDefault ? fallback : x);
            }
            return r;
        }
        if (a.Count == 0) throw new PyError("map requires a filter argument");
        var name = PyRepr.Str(a.Positional[0]);
        var filter = Filters.Find(name) ?? throw new PyError($"No filter named '{name}'.");
        var rest = new Args(a.Positional[1..], a.Named);
        foreach (var item in items) r.Add(filter(ctx, item, rest));
        return r;
    }

    private static PyList Select(RenderContext ctx, object? v, Args a, bool byAttribute, bool keep)
    {
        var offset = byAttribute ? 1 : 0;
        var attr = byAttribute ? PyRepr.Str(a.Required(0, "attribute", "selectattr")) : null;
        TestFn? test = null;
        Args rest = Args.None;
        if (a.Count > offset)
        {
            var name = PyRepr.Str(a.Positional[offset]);
            test = Tests.Find(name) ?? throw new PyError($"No test named '{name}'.");
            rest = new Args(a.Positional[(offset + 1)..], a.Named);
        }
        var r = new PyList();
        foreach (var item in Ops.Iterate(v))
        {
            var x = attr is null ? item : Attribute(item, attr);
            var ok = test is null ? Ops.Truthy(x) : test(ctx, x, rest);
            if (ok == keep) r.Add(item);
        }
        return r;
    }

    private static PyList DictSort(RenderContext ctx, object? v, Args a)
    {
        var caseSensitive = Ops.Truthy(a.Get(0, "case_sensitive", false));
        var by = PyRepr.Str(a.Get(1, "by", "key"));
        var reverse = Ops.Truthy(a.Get(2, "reverse", false));
        var pairs = Items(v);
        var index = by == "key" ? 0 : by == "value" ? 1 : throw new PyError("You can only sort by either 'key' or 'value'");
        return SortBy(pairs, x => SortKey(((PyTuple)x!).Items[index], null, caseSensitive), reverse);
    }

    private static PyList SortBy(IReadOnlyList<object?> items, Func<object?, object?> key, bool reverse)
    {
        var keyed = new List<(object? Key, object? Item)>(items.Count);
        foreach (var item in items) keyed.Add((key(item), item));
        // List.Sort is unstable; Python's sort is stable, so order by key then by original position.
        var order = Enumerable.Range(0, keyed.Count).ToArray();
        try
        {
            Array.Sort(order, (x, y) =>
            {
                var c = Ops.Compare(keyed[x].Key, keyed[y].Key);
                if (reverse) c = -c;
                return c != 0 ? c : x.CompareTo(y);
            });
        }
        catch (InvalidOperationException e) when (e.InnerException is PyError inner)
        {
            throw inner;
        }
        var r = new PyList(items.Count);
        foreach (var i in order) r.Add(keyed[i].Item);
        return r;
    }

    private static PyList Sort(RenderContext ctx, object? v, Args a)
    {
        var reverse = Ops.Truthy(a.Get(0, "reverse", false));
        var caseSensitive = Ops.Truthy(a.Get(1, "case_sensitive", false));
        var attr = a.Get(2, "attribute");
        return SortBy(Ops.Iterate(v), x => SortKey(x, attr, caseSensitive), reverse);
    }

    private static object? Sum(RenderContext ctx, object? v, Args a)
    {
        var attr = a.Get(0, "attribute");
        var total = a.Get(1, "start", 0L);
        foreach (var item in Ops.Iterate(v))
            total = Ops.Binary("+", total, attr is null ? item : Attribute(item, PyRepr.Str(attr)), ctx.MaxLength);
        return total;
    }

    private static object? MinMax(object? v, Args a, int sign)
    {
        var caseSensitive = Ops.Truthy(a.Get(0, "case_sensitive", false));
        var attr = a.Get(1, "attribute");
        var items = Ops.Iterate(v);
        if (items.Count == 0) return Undefined.Hinted("No aggregated item, sequence was empty.");
        var best = items[0];
        var bestKey = SortKey(best, attr, caseSensitive);
        for (var i = 1; i < items.Count; i++)
        {
            var key = SortKey(items[i], attr, caseSensitive);
            if (Ops.Compare(key, bestKey) * sign > 0) { best = items[i]; bestKey = key; }
        }
        return best;
    }

    private static PyList Batch(RenderContext ctx, object? v, Args a)
    {
        var size = Ops.ToLong(a.Required(0, "linecount", "batch"));
        if (size <= 0) throw new PyError("batch size must be positive");
        var hasFill = a.Has(1, "fill_with") && a.Get(1, "fill_with") is not null;
        var fill = a.Get(1, "fill_with");
        var r = new PyList();
        PyList? tmp = null;
        foreach (var item in Ops.Iterate(v))
        {
            if (tmp is not null && tmp.Count == size) { r.Add(tmp); tmp = null; }
            (tmp ??= []).Add(item);
        }
        if (tmp is { Count: > 0 })
        {
            if (hasFill) while (tmp.Count < size) tmp.Add(fill);
            r.Add(tmp);
        }
        return r;
    }

    private static PyList SliceFilter(RenderContext ctx, object? v, Args a)
    {
        var seq = Ops.Iterate(v);
        var slices = (int)Ops.ToLong(a.Required(0, "slices", "slice"));
        var hasFill = a.Get(1, "fill_with") is not null;
        var fill = a.Get(1, "fill_with");
        var length = seq.Count;
        var perSlice = length / slices;
        var withExtra = length % slices;
        var offset = 0;
        var r = new PyList();
        for (var i = 0; i < slices; i++)
        {
            var start = offset + i * perSlice;
            if (i < withExtra) offset++;
            var end = offset + (i + 1) * perSlice;
            var part = new PyList();
            for (var j = start; j < end; j++) part.Add(seq[j]);
            if (hasFill && i >= withExtra) part.Add(fill);
            r.Add(part);
        }
        return r;
    }
}
