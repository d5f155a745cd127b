using System.Globalization;
using System.Text;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's time.strftime on glibc (C locale), including the "-" flag that drops padding (%-d).</summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTimeOffset t, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            var c = format[++i];
            var noPad = false;
            if (c == '-' && i + 1 < format.Length) { noPad = true; c = format[++i]; }
            string Num(int v, int width, char pad = '0') => noPad ? v.ToString(CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture).PadLeft(width, pad);
            var hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            sb.Append(c switch
            {
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                'y' => Num(t.Year % 100, 2),
                'm' => Num(t.Month, 2),
                'd' => Num(t.Day, 2),
                'e' => Num(t.Day, 2, ' '),
                'H' => Num(t.Hour, 2),
                'I' => Num(hour12, 2),
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'j' => Num(t.DayOfYear, 3),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
                'z' => (t.Offset < TimeSpan.Zero ? "-" : "+") + t.Offset.ToString("hhmm", CultureInfo.InvariantCulture),
                'F' => $"{t.Year:0000}-{t.Month:00}-{t.Day:00}",
                'T' => $"{t.Hour:00}:{t.Minute:00}:{t.Second:00}",
                'D' => $"{t.Month:00}/{t.Day:00}/{t.Year % 100:00}",
                'R' => $"{t.Hour:00}:{t.Minute:00}",
                'c' => $"{Days[(int)t.DayOfWeek][..3]} {Months[t.Month - 1][..3]} {t.Day,2} {t.Hour:00}:{t.Minute:00}:{t.Second:00} {t.Year}",
                'x' => $"{t.Month:00}/{t.Day:00}/{t.Year % 100:00}",
                'X' => $"{t.Hour:00}:{t.Minute:00}:{t.Second:00}",
                'n' => "\n",
                't' => "\t",
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
