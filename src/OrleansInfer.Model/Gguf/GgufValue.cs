using System.Globalization;

namespace OrleansInfer.Model.Gguf;

/// <summary>
/// One metadata value. Scalars hold their CLR value (byte, sbyte, ushort, short, uint, int, float, bool,
/// string, ulong, long, double); arrays hold a <see cref="GgufArray"/>.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value)
{
    public static GgufValue Of(string value) => new(GgufValueType.String, value);
    public static GgufValue Of(uint value) => new(GgufValueType.UInt32, value);
    public static GgufValue Of(int value) => new(GgufValueType.Int32, value);
    public static GgufValue Of(float value) => new(GgufValueType.Float32, value);
    public static GgufValue Of(bool value) => new(GgufValueType.Bool, value);
    public static GgufValue Of(ulong value) => new(GgufValueType.UInt64, value);
    public static GgufValue Of(string[] values) => new(GgufValueType.Array, new GgufArray(GgufValueType.String, values));
    public static GgufValue Of(float[] values) => new(GgufValueType.Array, new GgufArray(GgufValueType.Float32, values));
    public static GgufValue Of(int[] values) => new(GgufValueType.Array, new GgufArray(GgufValueType.Int32, values));

    public GgufArray AsArray() => Value as GgufArray
        ?? throw new InvalidCastException($"GGUF value of type {Type} is not an array");

    /// <summary>The value as an integer when it is any integer type.</summary>
    public bool TryGetInt64(out long result)
    {
        switch (Value)
        {
            case byte v: result = v; return true;
            case sbyte v: result = v; return true;
            case ushort v: result = v; return true;
            case short v: result = v; return true;
            case uint v: result = v; return true;
            case int v: result = v; return true;
            case long v: result = v; return true;
            case ulong v when v <= long.MaxValue: result = (long)v; return true;
            default: result = 0; return false;
        }
    }

    /// <summary>The value as a double when it is any number type.</summary>
    public bool TryGetDouble(out double result)
    {
        switch (Value)
        {
            case float f: result = f; return true;
            case double d: result = d; return true;
            default:
                var ok = TryGetInt64(out var l);
                result = l;
                return ok;
        }
    }

    public override string ToString() => Value switch
    {
        string s => s.Length > 80 ? $"\"{s[..77]}...\"" : $"\"{s}\"",
        GgufArray a => a.ToString(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}

/// <summary>A typed metadata array; <see cref="Items"/> is a CLR array of the element type (GgufArray[] when nested).</summary>
public sealed record GgufArray(GgufValueType ElementType, Array Items)
{
    public int Count => Items.Length;

    public override string ToString()
    {
        var preview = string.Join(", ", Items.Cast<object>().Take(6).Select(o => o is string s ? $"\"{s}\"" : Convert.ToString(o, CultureInfo.InvariantCulture)));
        return $"[{ElementType} x {Count}: {preview}{(Count > 6 ? ", ..." : "")}]";
    }
}
