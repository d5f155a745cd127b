using System.Numerics;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>
/// Python ints past long's range: arithmetic that overflows long continues in BigInteger, and results that fit
/// are narrowed back to long, so ordinary values stay fast. Sizes are bounded so 10 ** 10 ** 10 cannot exhaust memory.
/// </summary>
internal static class BigInts
{
    /// <summary>Largest integer kept, in bits (about 20,000 decimal digits).</summary>
    private const long MaxBits = 65_536;

    public static bool IsInteger(object? v) => v is long or bool or BigInteger;

    public static BigInteger ToBig(object? v) => v switch
    {
        BigInteger b => b,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new PyError("an integer is required"),
    };

    public static object Narrow(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;

    public static object Numeric(string op, BigInteger p, BigInteger q)
    {
        switch (op)
        {
            case "+": return Bounded(p + q);
            case "-": return Bounded(p - q);
            case "*":
                if (p.GetBitLength() + q.GetBitLength() > MaxBits) throw TooBig();
                return Narrow(p * q);
            case "//":
            case "%":
                if (q.IsZero) throw new PyError(op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
                var div = BigInteger.DivRem(p, q, out var rem);
                if (!rem.IsZero && (rem.Sign < 0) != (q.Sign < 0))
                {
                    div -= 1;
                    rem += q;
                }
                return Narrow(op == "//" ? div : rem);
            default:
                if (q.Sign < 0) return Math.Pow((double)p, (double)q);
                if (p.IsZero || p.IsOne) return Narrow(p);
                if (p == BigInteger.MinusOne) return q.IsEven ? (object)1L : -1L;
                if (q > MaxBits || (long)p.GetBitLength() * (long)q > MaxBits) throw TooBig();
                return Narrow(BigInteger.Pow(p, (int)q));
        }
    }

    private static object Bounded(BigInteger v) => v.GetBitLength() > MaxBits ? throw TooBig() : Narrow(v);

    private static LimitError TooBig() => new($"integer larger than {MaxBits} bits");
}
