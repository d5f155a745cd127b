using System.Text;
using OrleansInfer.Model.Templates.Lexing;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>Python's str methods with Python's argument conventions (chars to strip, sep and maxsplit, tuple prefixes).</summary>
internal static class StringMethods
{
    public static object? Call(RenderContext ctx, string s, string name, Args args)
    {
        switch (name)
        {
            case "strip": return Strip(s, args.Get(0, "chars"), true, true);
            case "lstrip": return Strip(s, args.Get(0, "chars"), true, false);
            case "rstrip": return Strip(s, args.Get(0, "chars"), false, true);
            case "split": return Split(s, args.Get(0, "sep"), args.Get(1, "maxsplit", -1L));
            case "rsplit": return RSplit(s, args.Get(0, "sep"), Ops.ToLong(args.Get(1, "maxsplit", -1L)));
            case "splitlines": return new PyList(s.Split('\n').Select(x => (object?)x.TrimEnd('\r')).SkipLast(s.EndsWith('\n') ? 1 : 0));
            case "startswith": return Affix(s, args.Required(0, "prefix", name), true);
            case "endswith": return Affix(s, args.Required(0, "suffix", name), false);
            case "upper": return s.ToUpperInvariant();
            case "lower" or "casefold": return s.ToLowerInvariant();
            case "title": return Title(s);
            case "capitalize": return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            case "swapcase": return new string(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray());
            case "replace": return Replace(s, Str(args.Required(0, "old", name)), Str(args.Required(1, "new", name)), Ops.ToLong(args.Get(2, "count", -1L)), ctx.MaxLength);
            case "format": return PyFormat.Format(s, args);
            case "join": return Join(s, args.Required(0, "iterable", name));
            case "find": return (long)s.IndexOf(Str(args.Required(0, "sub", name)), StringComparison.Ordinal);
            case "rfind": return (long)s.LastIndexOf(Str(args.Required(0, "sub", name)), StringComparison.Ordinal);
            case "index" or "rindex":
                var sub = Str(args.Required(0, "sub", name));
                var at = name == "index" ? s.IndexOf(sub, StringComparison.Ordinal) : s.LastIndexOf(sub, StringComparison.Ordinal);
                return at >= 0 ? (long)at : throw new PyError("substring not found");
            case "count": return Count(s, Str(args.Required(0, "sub", name)));
            case "isdigit" or "isnumeric" or "isdecimal": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum": return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isspace": return s.Length > 0 && s.All(PyChars.IsSpace);
            case "isupper": return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower": return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
            case "center" or "ljust" or "rjust": return Pad(s, name, Ops.ToLong(args.Required(0, "width", name)), args.Get(1, "fillchar", " "));
            case "zfill":
                var width = (int)Ops.ToLong(args.Required(0, "width", name));
                if (s.Length >= width) return s;
                var signed = s.Length > 0 && (s[0] == '-' || s[0] == '+');
                return signed ? s[0] + s[1..].PadLeft(width - 1, '0') : s.PadLeft(width, '0');
            case "removeprefix": var pre = Str(args.Required(0, "prefix", name)); return s.StartsWith(pre, StringComparison.Ordinal) ? s[pre.Length..] : s;
            case "removesuffix": var suf = Str(args.Required(0, "suffix", name)); return suf.Length > 0 && s.EndsWith(suf, StringComparison.Ordinal) ? s[..^suf.Length] : s;
            case "partition" or "rpartition":
                var sep = Str(args.Required(0, "sep", name));
                var p = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
                if (p < 0) return name == "partition" ? new PyTuple([s, "", ""]) : new PyTuple(["", "", s]);
                return new PyTuple([s[..p], sep, s[(p + sep.Length)..]]);
        }
        throw new PyError($"'str' object has no attribute '{name}'");
    }

    private static string Str(object? v) => v as string ?? throw new PyError($"must be str, not {PyRepr.TypeName(v)}");

    public static string Strip(string s, object? chars, bool left, bool right)
    {
        var set = chars is null ? PyChars.Whitespace : Str(chars).ToCharArray();
        if (left && right) return s.Trim(set);
        return left ? s.TrimStart(set) : s.TrimEnd(set);
    }

    public static PyList Split(string s, object? sep, object? maxsplit)
    {
        var max = Ops.ToLong(maxsplit);
        var result = new PyList();
        if (sep is null)
        {
            var i = 0;
            while (true)
            {
                while (i < s.Length && PyChars.IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (max >= 0 && result.Count == max)
                {
                    result.Add(s[i..].TrimEnd(PyChars.Whitespace));
                    break;
                }
                var start = i;
                while (i < s.Length && !PyChars.IsSpace(s[i])) i++;
                result.Add(s[start..i]);
            }
            return result;
        }
        var separator = Str(sep);
        if (separator.Length == 0) throw new PyError("empty separator");
        var pos = 0;
        while (max < 0 || result.Count < max)
        {
            var at = s.IndexOf(separator, pos, StringComparison.Ordinal);
            if (at < 0) break;
            result.Add(s[pos..at]);
            pos = at + separator.Length;
        }
        result.Add(s[pos..]);
        return result;
    }

    private static PyList RSplit(string s, object? sep, long max)
    {
        if (sep is null || max < 0) return Split(s, sep, max);
        var separator = Str(sep);
        var parts = new List<object?>();
        var end = s.Length;
        while (parts.Count < max)
        {
            var at = end == 0 ? -1 : s.LastIndexOf(separator, end - 1, StringComparison.Ordinal);
            if (at < 0 || at + separator.Length > end) break;
            parts.Add(s[(at + separator.Length)..end]);
            end = at;
        }
        parts.Add(s[..end]);
        parts.Reverse();
        return new PyList(parts);
    }

    private static bool Affix(string s, object? arg, bool prefix)
    {
        if (arg is PyTuple t) return t.Items.Any(x => Affix(s, x, prefix));
        var a = Str(arg);
        return prefix ? s.StartsWith(a, StringComparison.Ordinal) : s.EndsWith(a, StringComparison.Ordinal);
    }

    /// <summary>str.title(): a letter after a cased letter is lowered, any other letter raised.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prevCased = false;
        foreach (var c in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevCased = char.IsUpper(c) || char.IsLower(c);
        }
        return sb.ToString();
    }

    public static string Replace(string s, string old, string replacement, long count, long maxLength)
    {
        if (count < 0 && old.Length > 0)
        {
            var r = s.Replace(old, replacement, StringComparison.Ordinal);
            return r.Length > maxLength ? throw new LimitError($"string longer than {maxLength} characters") : r;
        }
        var sb = new StringBuilder();
        var pos = 0;
        var done = 0L;
        if (old.Length == 0)
        {
            for (var i = 0; i <= s.Length; i++)
            {
                if (count >= 0 && done >= count) { sb.Append(s, i, s.Length - i); break; }
                sb.Append(replacement);
                done++;
                if (i < s.Length) sb.Append(s[i]);
                if (sb.Length > maxLength) throw new LimitError($"string longer than {maxLength} characters");
            }
            return sb.ToString();
        }
        while (done < count)
        {
            var at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
            done++;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static string Join(string sep, object? iterable)
    {
        var items = Ops.Iterate(iterable);
        var parts = new string[items.Count];
        for (var i = 0; i < parts.Length; i++)
            parts[i] = items[i] as string ?? throw new PyError($"sequence item {i}: expected str instance, {PyRepr.TypeName(items[i])} found");
        return string.Join(sep, parts);
    }

    private static long Count(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        long n = 0;
        for (var at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string Pad(string s, string how, long width, object? fill)
    {
        var f = Str(fill);
        if (f.Length != 1) throw new PyError("The fill character must be exactly one character long");
        if (width <= s.Length) return s;
        var total = (int)width - s.Length;
        if (how == "ljust") return s + new string(f[0], total);
        if (how == "rjust") return new string(f[0], total) + s;
        var left = total / 2 + (total & (int)width & 1);
        return new string(f[0], left) + s + new string(f[0], total - left);
    }
}
