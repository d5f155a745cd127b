using System.Text;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's printf-style 'fmt' % args for the common conversions (%s %r %d %i %f %x %%), with flags and width.</summary>
internal static class PercentFormat
{
    public static string Apply(string format, object? args)
    {
        var values = args is PyTuple t ? t.Items : [args];
        var sb = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%') { sb.Append(format[i]); continue; }
            var start = ++i;
            while (i < format.Length && "-+ 0#.123456789".Contains(format[i])) i++;
            if (i >= format.Length) throw new PyError("incomplete format");
            var flags = format[start..i];
            var type = format[i];
            if (type == '%') { sb.Append('%'); continue; }
            if (next >= values.Length) throw new PyError("not enough arguments for format string");
            var value = values[next++];
            var spec = flags.Replace("-", "<").Replace("#", "");
            if (flags.StartsWith('-')) spec = "<" + flags[1..];
            else if (flags.Length > 0 && flags[0] != '0' && !flags.StartsWith('+') && !flags.StartsWith(' ')) spec = ">" + flags;
            else spec = flags;
            sb.Append(type switch
            {
                's' => PyFormat.ApplySpec(PyRepr.Str(value), spec),
                'r' => PyFormat.ApplySpec(PyRepr.Repr(value), spec),
                'd' or 'i' or 'u' => PyFormat.ApplySpec(value is double d ? (long)Math.Truncate(d) : Ops.ToLong(value), spec + "d"),
                'f' or 'F' or 'e' or 'E' or 'g' or 'G' => PyFormat.ApplySpec(Ops.ToDouble(value), spec + type),
                'x' or 'X' or 'o' => PyFormat.ApplySpec(Ops.ToLong(value), spec + type),
                _ => throw new PyError($"unsupported format character '{type}'"),
            });
        }
        if (next < values.Length && args is PyTuple) throw new PyError("not all arguments converted during string formatting");
        return sb.ToString();
    }
}
