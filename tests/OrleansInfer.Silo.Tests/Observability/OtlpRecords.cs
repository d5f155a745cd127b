using System.Text.Json;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>A span as the OTLP receiver decoded it: ids in lower-case hex, attribute values as JSON.</summary>
public sealed record OtlpSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    string? ServiceName,
    string Scope,
    string StatusCode,
    IReadOnlyDictionary<string, JsonElement> Attributes,
    IReadOnlyList<OtlpEvent> Events,
    IReadOnlyDictionary<string, JsonElement> Resource)
{
    /// <summary>A string attribute, or null when absent.</summary>
    public string? Text(string key) => Attributes.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer attribute, or null when absent.</summary>
    public long? Integer(string key) => Attributes.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    internal static OtlpSpan From(JsonElement e) => new(
        e.GetProperty("trace_id").GetString()!,
        e.GetProperty("span_id").GetString()!,
        e.GetProperty("parent_span_id").GetString(),
        e.GetProperty("name").GetString()!,
        e.GetProperty("kind").GetString()!,
        e.GetProperty("service.name").GetString(),
        e.GetProperty("scope").GetString()!,
        e.GetProperty("status").GetProperty("code").GetString()!,
        Map(e.GetProperty("attributes")),
        e.GetProperty("events").EnumerateArray().Select(x => new OtlpEvent(x.GetProperty("name").GetString()!, Map(x.GetProperty("attributes")))).ToList(),
        Map(e.GetProperty("resource")));

    internal static Dictionary<string, JsonElement> Map(JsonElement o) =>
        o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
}

/// <summary>A span event with its attributes.</summary>
public sealed record OtlpEvent(string Name, IReadOnlyDictionary<string, JsonElement> Attributes);

/// <summary>
/// One metric data point as the OTLP receiver decoded it (type: gauge, sum, histogram...); the value is a number for a
/// gauge or sum, {count, sum} for a histogram.
/// </summary>
public sealed record OtlpMetricPoint(string Name, string Unit, string Type, string? ServiceName, string Scope, IReadOnlyDictionary<string, JsonElement> Attributes, JsonElement Value)
{
    /// <summary>A string attribute, or null when absent.</summary>
    public string? Text(string key) => Attributes.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static OtlpMetricPoint From(JsonElement e) => new(
        e.GetProperty("name").GetString()!,
        e.GetProperty("unit").GetString()!,
        e.GetProperty("type").GetString()!,
        e.GetProperty("service.name").GetString(),
        e.GetProperty("scope").GetString()!,
        OtlpSpan.Map(e.GetProperty("attributes")),
        e.GetProperty("value").Clone());
}
