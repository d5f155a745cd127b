using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>Jinja2's built-in filters on strings and numbers (collections are in <see cref="CollectionFilters"/>), plus transformers' tojson.</summary>
internal static partial class Filters
{
    private static readonly Dictionary<string, FilterFn> Table = new(StringComparer.Ordinal)
    {
        ["trim"] = (_, v, a) => StringMethods.Strip(PyRepr.Str(v), a.Get(0, "chars"), true, true),
        ["tojson"] = (ctx, v, a) => JsonDump.Dumps(v, a.Get(1, "indent"), a.Get(2, "separators"), Ops.Truthy(a.Get(3, "sort_keys", false)), ctx.MaxLength),
        ["upper"] = (_, v, _) => PyRepr.Str(v).ToUpperInvariant(),
        ["lower"] = (_, v, _) => PyRepr.Str(v).ToLowerInvariant(),
        ["title"] = (_, v, _) => Title(PyRepr.Str(v)),
        ["capitalize"] = (_, v, _) => PyRepr.Str(v) is var s && s.Length > 0 ? char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant() : "",
        ["replace"] = (ctx, v, a) => StringMethods.Replace(PyRepr.Str(v), PyRepr.Str(a.Required(0, "old", "replace")), PyRepr.Str(a.Required(1, "new", "replace")),
            a.Get(2, "count") is { } c ? Ops.ToLong(c) : -1, ctx.MaxLength),
        ["string"] = (_, v, _) => PyRepr.Str(v),
        ["safe"] = (_, v, _) => v is string ? v : PyRepr.Str(v),
        ["escape"] = (_, v, _) => Escape(PyRepr.Str(v)),
        ["e"] = (_, v, _) => Escape(PyRepr.Str(v)),
        ["forceescape"] = (_, v, _) => Escape(PyRepr.Str(v)),
        ["int"] = (_, v, a) => ToInt(v, a.Get(0, "default", 0L), Ops.ToLong(a.Get(1, "base", 10L))),
        ["float"] = (_, v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["abs"] = (_, v, _) => v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), bool b => b ? 1L : 0L, Undefined u => throw u.Error(), _ => throw new PyError($"bad operand type for abs(): '{PyRepr.TypeName(v)}'") },
        ["round"] = (_, v, a) => Round(v, (int)Ops.ToLong(a.Get(0, "precision", 0L)), PyRepr.Str(a.Get(1, "method", "common"))),
        ["wordcount"] = (_, v, _) => (long)WordRegex().Count(PyRepr.Str(v)),
        ["center"] = (ctx, v, a) => StringMethods.Call(ctx, PyRepr.Str(v), "center", new Args([a.Get(0, "width", 80L)], null)),
        ["format"] = (_, v, a) => PercentFormat.Apply(PyRepr.Str(v), a.Named is { Length: > 0 } ? NamedDict(a) : new PyTuple(a.Positional)),
        ["truncate"] = (_, v, a) => Truncate(PyRepr.Str(v), Ops.ToLong(a.Get(0, "length", 255L)), Ops.Truthy(a.Get(1, "killwords", false)), PyRepr.Str(a.Get(2, "end", "...")), a.Get(3, "leeway") is { } lw ? Ops.ToLong(lw) : 5),
        ["striptags"] = (_, v, _) => StripTags(PyRepr.Str(v)),
        ["pprint"] = (_, v, _) => PyRepr.Repr(SortedForPprint(v)),
        ["indent"] = (_, v, a) => Indent(PyRepr.Str(v), a.Get(0, "width", 4L), Ops.Truthy(a.Get(1, "first", false)), Ops.Truthy(a.Get(2, "blank", false))),
        ["default"] = Default,
        ["d"] = Default,
        ["attr"] = (_, v, a) => Access.GetAttr(v, PyRepr.Str(a.Required(0, "name", "attr"))),
    };

    static Filters() => CollectionFilters.Register(Table);

    public static FilterFn? Find(string name) => Table.GetValueOrDefault(name);

    private static object? Default(RenderContext ctx, object? v, Args a)
    {
        var fallback = a.Get(0, "default_value", "");
        return v is Undefined || (Ops.Truthy(a.Get(1, "boolean", false)) && !Ops.Truthy(v)) ? fallback : v;
    }

    private static PyDict NamedDict(Args a)
    {
        var d = new PyDict();
        foreach (var pair in a.Named!) d[pair.Key] = pair.Value;
        return d;
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginningRegex();

    /// <summary>Jinja2's title: each chunk after a separator (space, dash, bracket) gets an upper first letter and lower rest.</summary>
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var item in WordBeginningRegex().Split(s))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    public static string Escape(string s)
    {
        if (s.AsSpan().IndexOfAny("&<>\"'") < 0) return s;
        return s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
    }

    private static object? ToInt(object? v, object? fallback, long numberBase)
    {
        switch (v)
        {
            case long or bool: return Ops.ToLong(v);
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case string s:
                var t = s.Trim(Lexing.PyChars.Whitespace).Replace("_", "");
                if (TryParseInt(t, (int)numberBase, out var l)) return l;
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && double.IsFinite(f) ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static bool TryParseInt(string t, int numberBase, out long value)
    {
        value = 0;
        var negative = t.StartsWith('-');
        if (negative || t.StartsWith('+')) t = t[1..];
        if (numberBase == 16 && t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        if (numberBase == 8 && t.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        if (numberBase == 2 && t.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        if (t.Length == 0) return false;
        foreach (var c in t)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
            if (digit >= numberBase) return false;
            value = value * numberBase + digit;
        }
        if (negative) value = -value;
        return true;
    }

    private static object? ToFloat(object? v, object? fallback)
    {
        switch (v)
        {
            case long or bool: return (double)Ops.ToLong(v);
            case double: return v;
            case string s:
                var t = s.Trim(Lexing.PyChars.Whitespace).Replace("_", "").ToLowerInvariant();
                if (t is "nan" or "+nan" or "-nan") return double.NaN;
                if (t is "inf" or "+inf" or "infinity" or "+infinity") return double.PositiveInfinity;
                if (t is "-inf" or "-infinity") return double.NegativeInfinity;
                return t.Length > 0 && !t.Contains(',') && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : fallback;
            default: return fallback;
        }
    }

    private static object? Round(object? v, int precision, string method)
    {
        if (method is not ("common" or "ceil" or "floor")) throw new PyError("method must be common, ceil or floor");
        if (v is long or bool && method == "common") return Ops.ToLong(v);
        var d = Ops.ToDouble(v);
        if (method != "common")
        {
            var scale = Math.Pow(10, precision);
            return (method == "ceil" ? Math.Ceiling(d * scale) : Math.Floor(d * scale)) / scale;
        }
        if (!double.IsFinite(d)) return d;
        return PyRound.Round(d, precision);
    }

    /// <summary>pprint sorts dict keys (sort_dicts=True).</summary>
    private static object? SortedForPprint(object? v)
    {
        switch (v)
        {
            case PyDict d:
                var pairs = d.Items.ToList();
                try
                {
                    pairs.Sort((a, b) => Ops.Compare(a.Key, b.Key));
                }
                catch (InvalidOperationException) { }
                var sorted = new PyDict(d.Count);
                foreach (var pair in pairs) sorted[pair.Key] = SortedForPprint(pair.Value);
                return sorted;
            case PyList l:
                var list = new PyList(l.Count) { ViewName = l.ViewName };
                foreach (var item in l) list.Add(SortedForPprint(item));
                return list;
            default:
                return v;
        }
    }

    private static string Truncate(string s, long length, bool killwords, string end, long leeway)
    {
        if (s.Length <= length + leeway) return s;
        var cut = (int)Math.Max(0, length - end.Length);
        if (killwords) return s[..cut] + end;
        var head = s[..cut];
        var space = head.LastIndexOf(' ');
        return (space >= 0 ? head[..space] : head) + end;
    }

    private static string StripTags(string s)
    {
        s = Regex.Replace(s, "<!--.*?-->", "", RegexOptions.Singleline);
        s = Regex.Replace(s, "<.*?>", "", RegexOptions.Singleline);
        s = string.Join(' ', s.Split(Lexing.PyChars.Whitespace, StringSplitOptions.RemoveEmptyEntries));
        return System.Net.WebUtility.HtmlDecode(s);
    }

    /// <summary>Jinja2's indent: a newline is appended first, so a trailing newline survives; empty lines stay empty unless blank.</summary>
    private static string Indent(string s, object? width, bool first, bool blank)
    {
        var indention = width is string w ? w : new string(' ', (int)Math.Max(0, Ops.ToLong(width)));
        var lines = SplitLines(s + "\n");
        var sb = new StringBuilder();
        if (blank)
        {
            sb.AppendJoin("\n" + indention, lines);
        }
        else
        {
            sb.Append(lines.Count > 0 ? lines[0] : "");
            for (var i = 1; i < lines.Count; i++)
            {
                sb.Append('\n');
                if (lines[i].Length > 0) sb.Append(indention);
                sb.Append(lines[i]);
            }
        }
        return first ? indention + sb : sb.ToString();
    }

    /// <summary>Python's str.splitlines() (no trailing empty piece for a final line break).</summary>
    internal static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(s[start..i]);
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
                start = i + 1;
            }
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }
}
