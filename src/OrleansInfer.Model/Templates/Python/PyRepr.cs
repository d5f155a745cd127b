using System.Globalization;
using System.Text;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's str() and repr() of template values, which is what {{ }} prints.</summary>
internal static class PyRepr
{
    public static string Str(object? value) => value switch
    {
        string s => s,
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value)
    {
        if (value is string s) return ReprString(s);
        if (value is PyList or PyTuple or PyDict)
        {
            var sb = new StringBuilder();
            AppendRepr(sb, value);
            return sb.ToString();
        }
        return value switch
        {
            Undefined => "",
            Namespace ns => "<Namespace " + Repr(ns.Attributes) + ">",
            PyCallable c => c.Describe(),
            _ => Str(value),
        };
    }

    public static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case PyList list:
                if (list.ViewName is not null) sb.Append(list.ViewName).Append('(');
                sb.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i]);
                }
                sb.Append(']');
                if (list.ViewName is not null) sb.Append(')');
                break;
            case PyTuple tuple:
                sb.Append('(');
                for (var i = 0; i < tuple.Items.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, tuple.Items[i]);
                }
                sb.Append(tuple.Items.Length == 1 ? ",)" : ")");
                break;
            case PyDict dict:
                sb.Append('{');
                var first = true;
                foreach (var pair in dict.Items)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, pair.Key);
                    sb.Append(": ");
                    AppendRepr(sb, pair.Value);
                }
                sb.Append('}');
                break;
            default:
                sb.Append(Repr(value));
                break;
        }
    }

    /// <summary>Python's float repr: shortest round-trip digits, fixed for exponents -4..15, else d.ddde+XX.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var (digits, exp) = Decompose(shortest);
        var sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16)
        {
            if (exp >= 0)
            {
                var intPart = digits.Length > exp + 1 ? digits[..(exp + 1)] : digits.PadRight(exp + 1, '0');
                var frac = digits.Length > exp + 1 ? digits[(exp + 1)..] : "0";
                return sign + intPart + "." + frac;
            }
            return sign + "0." + new string('0', -exp - 1) + digits;
        }
        var mantissa = digits.Length > 1 ? digits[..1] + "." + digits[1..] : digits;
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Significant digits (no leading/trailing zeros) and the decimal exponent of the first one.</summary>
    private static (string Digits, int Exponent) Decompose(string text)
    {
        if (text[0] == '-') text = text[1..];
        var exp = 0;
        var e = text.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
            text = text[..e];
        }
        var dot = text.IndexOf('.');
        var intLen = dot >= 0 ? dot : text.Length;
        var all = dot >= 0 ? text.Remove(dot, 1) : text;
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        var digits = all[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (digits, exp + intLen - lead - 1);
    }

    public static string ReprString(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2);
        sb.Append(quote);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == quote || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < ' ' || c == '\x7f') sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else if (c < 0x7f) sb.Append(c);
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                var cp = char.ConvertToUtf32(c, s[i + 1]);
                if (IsPrintable(CharUnicodeInfo.GetUnicodeCategory(cp))) sb.Append(c).Append(s[i + 1]);
                else sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (IsPrintable(CharUnicodeInfo.GetUnicodeCategory(c))) sb.Append(c);
            else if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        sb.Append(quote);
        return sb.ToString();
    }

    private static bool IsPrintable(UnicodeCategory cat) => cat is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    /// <summary>Python's type(x).__name__.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyList => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        Macro => "Macro",
        PyCallable => "function",
        _ => value.GetType().Name,
    };

    /// <summary>Jinja2's object_type_repr: "None", or "dict object" for builtins.</summary>
    public static string ObjectTypeRepr(object? value) => value is null ? "None"
        : value is Namespace ? "jinja2.utils.Namespace object"
        : TypeName(value) + " object";
}
