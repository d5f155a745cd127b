using System.Globalization;
using System.Numerics;

namespace OrleansInfer.Model.Templates.Python;

/// <summary>Python's round(float, ndigits): the exact binary value rounded half-to-even at the decimal digit.</summary>
internal static class PyRound
{
    public static double Round(double d, int precision)
    {
        if (d == 0 || !double.IsFinite(d)) return d;
        if (precision > 300 || precision < -300) return precision > 0 ? d : 0.0 * d;
        var bits = BitConverter.DoubleToInt64Bits(d);
        var negative = bits < 0;
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1;
        else mantissa |= 1L << 52;
        exponent -= 1075;
        // value = mantissa * 2^exponent; scaled = value * 10^precision as the fraction num / den.
        BigInteger num = mantissa, den = BigInteger.One;
        if (exponent >= 0) num <<= exponent;
        else den <<= -exponent;
        if (precision >= 0) num *= BigInteger.Pow(10, precision);
        else den *= BigInteger.Pow(10, -precision);
        var q = BigInteger.DivRem(num, den, out var r);
        var twice = r * 2;
        if (twice > den || (twice == den && !q.IsEven)) q += 1;
        var text = q.ToString(CultureInfo.InvariantCulture) + "e" + (-precision).ToString(CultureInfo.InvariantCulture);
        var result = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return negative ? -result : result;
    }
}
