using OrleansInfer.Model.Templates.Python;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>Python's arithmetic on int (long, overflow is an error), float, str, list and tuple.</summary>
internal static partial class Ops
{
    public static object? Binary(string op, object? a, object? b, long maxLength)
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        try
        {
            if (IsNumber(a) && IsNumber(b)) return Numeric(op, a!, b!);
        }
        catch (OverflowException)
        {
            throw new PyError("integer overflow");
        }
        switch (op)
        {
            case "+":
                if (a is string sa && b is string sb) return Bounded(sa.Length + (long)sb.Length, maxLength) ? sa + sb : null;
                if (a is PyList la && b is PyList lb)
                {
                    Bounded(la.Count + (long)lb.Count, maxLength);
                    var r = new PyList(la.Count + lb.Count);
                    r.AddRange(la);
                    r.AddRange(lb);
                    return r;
                }
                if (a is PyTuple ta && b is PyTuple tb) return new PyTuple([.. ta.Items, .. tb.Items]);
                if (a is string) throw new PyError($"can only concatenate str (not \"{PyRepr.TypeName(b)}\") to str");
                if (a is PyList) throw new PyError($"can only concatenate list (not \"{PyRepr.TypeName(b)}\") to list");
                break;
            case "*":
                if (a is string or PyList or PyTuple && b is long or bool) return Repeat(a, ToLong(b), maxLength);
                if (b is string or PyList or PyTuple && a is long or bool) return Repeat(b, ToLong(a), maxLength);
                break;
            case "%":
                if (a is string fmt) return PercentFormat.Apply(fmt, b);
                break;
        }
        throw new PyError($"unsupported operand type(s) for {op}: '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");
    }

    private static bool Bounded(long length, long maxLength)
    {
        if (length > maxLength) throw new LimitError($"value of {length} items exceeds the output limit of {maxLength}");
        return true;
    }

    private static object Repeat(object seq, long times, long maxLength)
    {
        if (times < 0) times = 0;
        switch (seq)
        {
            case string s:
                Bounded(s.Length * times, maxLength);
                return string.Concat(Enumerable.Repeat(s, (int)times));
            case PyList l:
                Bounded(l.Count * times, maxLength);
                var r = new PyList((int)(l.Count * times));
                for (var i = 0; i < times; i++) r.AddRange(l);
                return r;
            default:
                var t = (PyTuple)seq;
                Bounded(t.Items.Length * times, maxLength);
                var items = new List<object?>();
                for (var i = 0; i < times; i++) items.AddRange(t.Items);
                return new PyTuple([.. items]);
        }
    }

    private static object Numeric(string op, object a, object b)
    {
        if (op == "/")
        {
            var d = ToDouble(b);
            if (d == 0) throw new PyError("division by zero");
            return ToDouble(a) / d;
        }
        if (a is double || b is double)
        {
            double x = ToDouble(a), y = ToDouble(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "//":
                    if (y == 0) throw new PyError("float floor division by zero");
                    return Math.Floor(x / y);
                case "%":
                    if (y == 0) throw new PyError("float modulo");
                    var m = x % y;
                    return m != 0 && (m < 0) != (y < 0) ? m + y : m;
                default: return Math.Pow(x, y);
            }
        }
        long p = ToLong(a), q = ToLong(b);
        switch (op)
        {
            case "+": return checked(p + q);
            case "-": return checked(p - q);
            case "*": return checked(p * q);
            case "//":
                if (q == 0) throw new PyError("integer division or modulo by zero");
                var div = p / q;
                return (p % q != 0) && ((p < 0) != (q < 0)) ? div - 1 : div;
            case "%":
                if (q == 0) throw new PyError("integer modulo by zero");
                var mod = p % q;
                return mod != 0 && (mod < 0) != (q < 0) ? mod + q : mod;
            default:
                if (q < 0) return Math.Pow(p, q);
                long result = 1, power = p;
                while (q > 0)
                {
                    if ((q & 1) != 0) result = checked(result * power);
                    q >>= 1;
                    if (q > 0) power = checked(power * power);
                }
                return result;
        }
    }

    public static object? Negate(object? v) => v switch
    {
        long l => (object)checked(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        Undefined u => throw u.Error(),
        _ => throw new PyError($"bad operand type for unary -: '{PyRepr.TypeName(v)}'"),
    };

    public static object? Plus(object? v) => v switch
    {
        long or double => v,
        bool b => b ? 1L : 0L,
        Undefined u => throw u.Error(),
        _ => throw new PyError($"bad operand type for unary +: '{PyRepr.TypeName(v)}'"),
    };
}
