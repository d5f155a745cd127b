using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>Converts the caller's JsonObject into template values once per render: integers to long, other numbers to double.</summary>
internal static class JsonInput
{
    public static Scope ToScope(JsonObject variables)
    {
        var scope = new Scope(null, variables.Count + 4);
        foreach (var pair in variables) scope.Set(pair.Key, Convert(pair.Value));
        return scope;
    }

    public static object? Convert(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject obj:
                var dict = new PyDict(obj.Count);
                foreach (var pair in obj) dict[pair.Key] = Convert(pair.Value);
                return dict;
            case JsonArray arr:
                var list = new PyList(arr.Count);
                foreach (var item in arr) list.Add(Convert(item));
                return list;
            default:
                return ConvertValue(node.AsValue());
        }
    }

    private static object? ConvertValue(JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var e)) return ConvertElement(e);
        if (value.TryGetValue<string>(out var s)) return s;
        if (value.TryGetValue<bool>(out var b)) return b;
        if (value.TryGetValue<long>(out var l)) return l;
        if (value.TryGetValue<int>(out var i)) return (long)i;
        if (value.TryGetValue<double>(out var d)) return d;
        if (value.TryGetValue<float>(out var f)) return (double)f;
        if (value.TryGetValue<decimal>(out var m)) return decimal.IsInteger(m) && Math.Abs(m) <= long.MaxValue ? (object)(long)m : (double)m;
        return ConvertElement(JsonSerializer.SerializeToElement(value));
    }

    private static object? ConvertElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.Array => Convert(JsonArray.Create(e)),
        JsonValueKind.Object => Convert(JsonObject.Create(e)),
        _ => null,
    };
}
