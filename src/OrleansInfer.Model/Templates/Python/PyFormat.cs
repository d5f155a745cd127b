using System.Globalization;
using System.Text;
using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's str.format with {} / {0} / {name} fields, !r / !s conversions and the common format specs.</summary>
internal static class PyFormat
{
    public static string Format(string template, Args args)
    {
        var sb = new StringBuilder();
        var auto = 0;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); i++; continue; }
                throw new PyError("Single '}' encountered in format string");
            }
            if (c != '{') { sb.Append(c); continue; }
            if (i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); i++; continue; }
            var close = template.IndexOf('}', i + 1);
            if (close < 0) throw new PyError("Single '{' encountered in format string");
            var field = template[(i + 1)..close];
            i = close;
            string? spec = null;
            char conversion = '\0';
            var colon = field.IndexOf(':');
            if (colon >= 0) { spec = field[(colon + 1)..]; field = field[..colon]; }
            var bang = field.IndexOf('!');
            if (bang >= 0) { conversion = field.Length > bang + 1 ? field[bang + 1] : 's'; field = field[..bang]; }
            var value = Resolve(field, args, ref auto);
            if (conversion == 'r') value = PyRepr.Repr(value);
            else if (conversion == 's') value = PyRepr.Str(value);
            sb.Append(ApplySpec(value, spec ?? ""));
        }
        return sb.ToString();
    }

    private static object? Resolve(string field, Args args, ref int auto)
    {
        var end = 0;
        while (end < field.Length && field[end] != '.' && field[end] != '[') end++;
        var head = field[..end];
        object? value;
        if (head.Length == 0 || char.IsAsciiDigit(head[0]))
        {
            var index = head.Length == 0 ? auto++ : int.Parse(head, CultureInfo.InvariantCulture);
            if (index >= args.Count) throw new PyError($"Replacement index {index} out of range for positional args tuple");
            value = args.Positional[index];
        }
        else if (!args.TryNamed(head, out value))
        {
            throw new PyError($"'{head}'");
        }
        while (end < field.Length)
        {
            if (field[end] == '.')
            {
                var start = ++end;
                while (end < field.Length && field[end] != '.' && field[end] != '[') end++;
                value = Access.GetAttr(value, field[start..end]);
            }
            else
            {
                var close = field.IndexOf(']', end);
                var key = field[(end + 1)..close];
                value = Access.GetItem(value, long.TryParse(key, out var n) ? n : key);
                end = close + 1;
            }
        }
        return value;
    }

    /// <summary>[[fill]align][sign][0][width][,][.precision][type] applied to str, int or float.</summary>
    public static string ApplySpec(object? value, string spec)
    {
        if (spec.Length == 0) return PyRepr.Str(value);
        var p = 0;
        char fill = ' ', align = '\0', sign = '-';
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=') { fill = spec[0]; align = spec[1]; p = 2; }
        else if (spec[0] is '<' or '>' or '^' or '=') { align = spec[0]; p = 1; }
        if (p < spec.Length && spec[p] is '+' or '-' or ' ') sign = spec[p++];
        if (p < spec.Length && spec[p] == '0') { if (align == '\0') { fill = '0'; align = '='; } p++; }
        var w = p;
        while (p < spec.Length && char.IsAsciiDigit(spec[p])) p++;
        var width = p > w ? int.Parse(spec[w..p], CultureInfo.InvariantCulture) : 0;
        var grouping = p < spec.Length && spec[p] == ',';
        if (grouping) p++;
        int? precision = null;
        if (p < spec.Length && spec[p] == '.')
        {
            var s = ++p;
            while (p < spec.Length && char.IsAsciiDigit(spec[p])) p++;
            precision = int.Parse(spec[s..p], CultureInfo.InvariantCulture);
        }
        var type = p < spec.Length ? spec[p] : '\0';
        string body;
        var negative = false;
        if (value is string str)
        {
            body = precision is { } pr && pr < str.Length ? str[..pr] : str;
            if (align == '\0') align = '<';
        }
        else if (Ops.IsNumber(value))
        {
            if (align == '\0') align = '>';
            if (type is 'f' or 'F' or 'e' or 'E' or '%' or 'g' or 'G' || value is double && type == '\0')
            {
                var d = Ops.ToDouble(value);
                negative = d < 0 || (d == 0 && double.IsNegative(d));
                d = Math.Abs(d);
                body = type switch
                {
                    'f' or 'F' => d.ToString((grouping ? "N" : "F") + (precision ?? 6), CultureInfo.InvariantCulture),
                    'e' or 'E' => FormatExp(d, precision ?? 6, type),
                    '%' => (d * 100).ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture) + "%",
                    _ => precision is null ? PyRepr.Float(d) : d.ToString("G" + precision, CultureInfo.InvariantCulture),
                };
            }
            else
            {
                var l = Ops.ToLong(value);
                negative = l < 0;
                var abs = (ulong)(l < 0 ? -(decimal)l : l);
                body = type switch
                {
                    'x' => abs.ToString("x", CultureInfo.InvariantCulture),
                    'X' => abs.ToString("X", CultureInfo.InvariantCulture),
                    'b' => Convert.ToString((long)abs, 2),
                    'o' => Convert.ToString((long)abs, 8),
                    'c' => char.ConvertFromUtf32((int)abs),
                    _ => grouping ? abs.ToString("N0", CultureInfo.InvariantCulture) : abs.ToString(CultureInfo.InvariantCulture),
                };
            }
        }
        else
        {
            body = PyRepr.Str(value);
            if (align == '\0') align = '<';
        }
        var prefix = negative ? "-" : sign == '+' && Ops.IsNumber(value) ? "+" : sign == ' ' && Ops.IsNumber(value) ? " " : "";
        var len = prefix.Length + body.Length;
        if (width <= len) return prefix + body;
        var pad = width - len;
        return align switch
        {
            '<' => prefix + body + new string(fill, pad),
            '^' => new string(fill, pad / 2) + prefix + body + new string(fill, pad - pad / 2),
            '=' => prefix + new string(fill, pad) + body,
            _ => new string(fill, pad) + prefix + body,
        };
    }

    private static string FormatExp(double d, int precision, char type)
    {
        var s = d.ToString((type == 'E' ? "E" : "e") + precision, CultureInfo.InvariantCulture);
        var e = s.IndexOfAny(['e', 'E']);
        var exp = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture);
        return s[..(e + 1)] + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }
}
