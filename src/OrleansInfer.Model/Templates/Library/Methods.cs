using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>The methods templates call on str, dict and list values. Mutating ones are refused as by ImmutableSandboxedEnvironment.</summary>
internal static class Methods
{
    private static readonly HashSet<string> StrMethods =
    [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower", "title",
        "capitalize", "replace", "format", "join", "find", "rfind", "index", "rindex", "count", "isdigit", "isalpha",
        "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "center", "ljust", "rjust", "zfill",
        "swapcase", "casefold", "removeprefix", "removesuffix", "partition", "rpartition",
    ];

    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get", "copy"];

    private static readonly HashSet<string> ListMethods = ["index", "count", "copy"];

    private static readonly HashSet<string> UnsafeList = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];

    private static readonly HashSet<string> UnsafeDict = ["update", "pop", "popitem", "setdefault", "clear"];

    public static bool IsSafeMethod(object? obj, string name) => obj switch
    {
        string => StrMethods.Contains(name),
        PyDict => DictMethods.Contains(name),
        PyList => ListMethods.Contains(name),
        PyTuple => name is "index" or "count",
        _ => false,
    };

    public static bool IsUnsafeMethod(object? obj, string name) => obj switch
    {
        PyList => UnsafeList.Contains(name),
        PyDict => UnsafeDict.Contains(name),
        _ => false,
    };

    public static object? Call(RenderContext ctx, object? self, string name, Args args) => self switch
    {
        string s => StringMethods.Call(ctx, s, name, args),
        PyDict d => CallDict(d, name, args),
        PyList l => CallSequence(l, name, args),
        PyTuple t => CallSequence(t.Items, name, args),
        _ => throw new PyError($"'{PyRepr.TypeName(self)}' object has no attribute '{name}'"),
    };

    private static object? CallDict(PyDict d, string name, Args args)
    {
        switch (name)
        {
            case "items":
                var items = new PyList(d.Count) { ViewName = "dict_items" };
                foreach (var pair in d.Items) items.Add(new PyTuple([pair.Key, pair.Value]));
                return items;
            case "keys":
                var keys = new PyList(d.Count) { ViewName = "dict_keys" };
                foreach (var pair in d.Items) keys.Add(pair.Key);
                return keys;
            case "values":
                var values = new PyList(d.Count) { ViewName = "dict_values" };
                foreach (var pair in d.Items) values.Add(pair.Value);
                return values;
            case "get":
                return d.TryGet(args.Required(0, "key", "get"), out var v) ? v : args.Get(1, "default");
            default:
                var copy = new PyDict(d.Count);
                foreach (var pair in d.Items) copy[pair.Key] = pair.Value;
                return copy;
        }
    }

    private static object? CallSequence(IReadOnlyList<object?> items, string name, Args args)
    {
        if (name == "copy") return new PyList(items);
        var x = args.Required(0, "value", name);
        switch (name)
        {
            case "index":
                for (var i = 0; i < items.Count; i++)
                {
                    if (Ops.PyEquals(items[i], x)) return (long)i;
                }
                throw new PyError($"{PyRepr.Repr(x)} is not in list");
            case "count":
                var n = 0L;
                foreach (var item in items)
                {
                    if (Ops.PyEquals(item, x)) n++;
                }
                return n;
            default:
                return new PyList(items);
        }
    }
}
