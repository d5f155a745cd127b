using System.Globalization;
using System.Text;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's json.dumps(x, ensure_ascii=False, indent, separators, sort_keys), byte for byte.</summary>
internal sealed class JsonDump
{
    private readonly string? _indent;
    private readonly string _itemSeparator;
    private readonly string _keySeparator;
    private readonly bool _sortKeys;
    private readonly long _maxLength;
    private readonly StringBuilder _sb = new();

    private JsonDump(string? indent, string itemSeparator, string keySeparator, bool sortKeys, long maxLength)
    {
        _indent = indent;
        _itemSeparator = itemSeparator;
        _keySeparator = keySeparator;
        _sortKeys = sortKeys;
        _maxLength = maxLength;
    }

    public static string Dumps(object? value, object? indent, object? separators, bool sortKeys, long maxLength)
    {
        string? ind = indent switch
        {
            null => null,
            string s => s,
            long or bool => new string(' ', (int)Math.Max(0, Ops.ToLong(indent))),
            _ => throw new PyError($"indent must be int or str, not {PyRepr.TypeName(indent)}"),
        };
        string item = ind is null ? ", " : ",", key = ": ";
        if (separators is not null)
        {
            var parts = Ops.Iterate(separators);
            if (parts.Count != 2 || parts[0] is not string a || parts[1] is not string b) throw new PyError("separators must be a pair of strings");
            item = a;
            key = b;
        }
        var dumper = new JsonDump(ind, item, key, sortKeys, maxLength);
        dumper.Write(value, 0);
        return dumper._sb.ToString();
    }

    private void Write(object? value, int level)
    {
        if (_sb.Length > _maxLength) throw new LimitError($"JSON longer than {_maxLength} characters");
        switch (value)
        {
            case null: _sb.Append("null"); break;
            case bool b: _sb.Append(b ? "true" : "false"); break;
            case long l: _sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: _sb.Append(Float(d)); break;
            case string s: WriteString(_sb, s); break;
            case PyList list: WriteArray(list, level); break;
            case PyTuple tuple: WriteArray(tuple.Items, level); break;
            case PyDict dict: WriteObject(dict, level); break;
            default: throw new PyError($"Object of type {PyRepr.TypeName(value)} is not JSON serializable");
        }
    }

    private static string Float(double d) => double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyRepr.Float(d);

    private void WriteArray(IReadOnlyList<object?> items, int level)
    {
        if (items.Count == 0) { _sb.Append("[]"); return; }
        _sb.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) _sb.Append(_itemSeparator);
            NewLine(level + 1);
            Write(items[i], level + 1);
        }
        NewLine(level);
        _sb.Append(']');
    }

    private void WriteObject(PyDict dict, int level)
    {
        if (dict.Count == 0) { _sb.Append("{}"); return; }
        var pairs = new List<KeyValuePair<string, object?>>(dict.Count);
        foreach (var pair in dict.Items) pairs.Add(new(KeyString(pair.Key), pair.Value));
        if (_sortKeys)
        {
            foreach (var pair in dict.Items)
            {
                if (pair.Key is not string) throw new PyError("'<' not supported between instances of 'str' and '" + PyRepr.TypeName(pair.Key) + "'");
            }
            pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }
        _sb.Append('{');
        for (var i = 0; i < pairs.Count; i++)
        {
            if (i > 0) _sb.Append(_itemSeparator);
            NewLine(level + 1);
            WriteString(_sb, pairs[i].Key);
            _sb.Append(_keySeparator);
            Write(pairs[i].Value, level + 1);
        }
        NewLine(level);
        _sb.Append('}');
    }

    private static string KeyString(object? key) => key switch
    {
        string s => s,
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => throw new PyError($"keys must be str, int, float, bool or None, not {PyRepr.TypeName(key)}"),
    };

    private void NewLine(int level)
    {
        if (_indent is null) return;
        _sb.Append('\n');
        for (var i = 0; i < level; i++) _sb.Append(_indent);
    }

    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ': sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }
}
