namespace OrleansInfer.Model.Templates.Runtime;

// The value model mirrors Python's: null is None, bool, long (int), double (float), string (str), and the classes
// below. Keeping Python's types lets printing, equality and errors come out as Jinja2's do.

/// <summary>A Python list.</summary>
internal sealed class PyList : List<object?>
{
    public PyList() { }

    public PyList(int capacity) : base(capacity) { }

    public PyList(IEnumerable<object?> items) : base(items) { }

    /// <summary>"dict_items", "dict_keys" or "dict_values" when this stands for a dict view, which prints differently.</summary>
    public string? ViewName { get; init; }
}

/// <summary>A Python tuple (immutable; prints with parentheses).</summary>
internal sealed class PyTuple(object?[] items)
{
    public object?[] Items { get; } = items;
}

/// <summary>A Python dict: insertion-ordered, keys compared as Python compares them (1 == 1.0 == True).</summary>
internal sealed class PyDict
{
    private static readonly object NoneKey = new();

    private readonly OrderedDictionary<object, object?> _map;

    public PyDict(int capacity = 0) => _map = new OrderedDictionary<object, object?>(capacity, PyKeyComparer.Instance);

    public int Count => _map.Count;

    public object? this[object? key]
    {
        set => _map[key ?? NoneKey] = value;
    }

    public bool TryGet(object? key, out object? value) => _map.TryGetValue(key ?? NoneKey, out value);

    public bool ContainsKey(object? key) => _map.ContainsKey(key ?? NoneKey);

    public IEnumerable<KeyValuePair<object?, object?>> Items
    {
        get
        {
            foreach (var pair in _map) yield return new KeyValuePair<object?, object?>(ReferenceEquals(pair.Key, NoneKey) ? null : pair.Key, pair.Value);
        }
    }

    public KeyValuePair<object?, object?> At(int index)
    {
        var pair = _map.GetAt(index);
        return new KeyValuePair<object?, object?>(ReferenceEquals(pair.Key, NoneKey) ? null : pair.Key, pair.Value);
    }
}

/// <summary>Jinja2's namespace(): the one object templates may assign attributes on.</summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}

/// <summary>
/// Jinja2's default Undefined: prints as '', iterates as empty, is falsy; most other uses raise UndefinedError
/// with the message describing what was missing (or a sandbox hint for unsafe attributes).
/// </summary>
internal sealed class Undefined
{
    public static readonly Undefined Anonymous = new(null, null, false, null);

    private readonly object? _name;
    private readonly object? _owner;
    private readonly bool _hasOwner;
    private readonly string? _hint;

    private Undefined(object? name, object? owner, bool hasOwner, string? hint)
    {
        _name = name;
        _owner = owner;
        _hasOwner = hasOwner;
        _hint = hint;
    }

    public static Undefined Named(string name) => new(name, null, false, null);

    public static Undefined Missing(object? owner, object? key) => new(key, owner, true, null);

    public static Undefined Hinted(string hint) => new(null, null, false, hint);

    public string Message
    {
        get
        {
            if (_hint is not null) return _hint;
            if (!_hasOwner) return $"{Python.PyRepr.Repr(_name)} is undefined";
            if (_name is not string) return $"{Python.PyRepr.ObjectTypeRepr(_owner)} has no element {Python.PyRepr.Repr(_name)}";
            return $"{Python.PyRepr.Repr(Python.PyRepr.ObjectTypeRepr(_owner))} has no attribute {Python.PyRepr.Repr(_name)}";
        }
    }

    public PyError Error() => new(Message);
}

/// <summary>A Python-level error raised by library code; nodes turn it into a positioned TemplateRuntimeException.</summary>
internal class PyError(string message) : Exception(message);

/// <summary>raise_exception(msg): becomes a TemplateRaisedException at the call.</summary>
internal sealed class RaisedError(string message) : PyError(message);

/// <summary>A bound of TemplateOptions exceeded inside library code.</summary>
internal sealed class LimitError(string message) : PyError(message);
