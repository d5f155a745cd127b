using System.Text.Json;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.OpenAi;

/// <summary>
/// Reads request bodies and their fields. Every wrong type is a 400 naming the parameter; JSON null counts as absent
/// (clients send null for "not set"), and unknown fields are ignored, as OpenAI and vLLM do.
/// </summary>
internal static class OpenAiJson
{
    /// <summary>OpenAI's JSON: text as it is (no HTML-safe escaping of quotes, apostrophes or non-ASCII).</summary>
    public static readonly System.Text.Json.JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The body as a JSON object. An oversized body surfaces as Kestrel's 413 (see <see cref="OpenAiEndpoints"/>).</summary>
    public static async Task<JsonElement> ReadObjectAsync(HttpContext context)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw GatewayException.Invalid("body", $"the request body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw GatewayException.Invalid("body", "the request body must be a JSON object");
            return document.RootElement.Clone();
        }
    }

    /// <summary>The field's value, or null when it is missing or JSON null.</summary>
    public static JsonElement? Value(JsonElement body, string name) =>
        body.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? String(JsonElement body, string name, string? param = null) => Value(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw WrongType(param ?? name, "a string"),
    };

    public static bool? Bool(JsonElement body, string name) => Value(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(name, "a boolean"),
    };

    public static int? Int(JsonElement body, string name) => Value(body, name) switch
    {
        null => null,
        { } v => AsInt(v, name),
    };

    public static long? Long(JsonElement body, string name) => Value(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var l) => l,
        _ => throw WrongType(name, "an integer"),
    };

    public static float? Float(JsonElement body, string name) => Value(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out var d) && double.IsFinite(d) => (float)d,
        _ => throw WrongType(name, "a number"),
    };

    /// <summary>An object field (e.g. stream_options), or null.</summary>
    public static JsonElement? Object(JsonElement body, string name, string? param = null) => Value(body, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } v => v,
        _ => throw WrongType(param ?? name, "an object"),
    };

    /// <summary>A string or a list of strings (stop).</summary>
    public static string[]? StringOrList(JsonElement body, string name)
    {
        if (Value(body, name) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(name, "a string or a list of strings");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw WrongType(name, "a string or a list of strings")).ToArray();
    }

    /// <summary>A list of integers (token ids).</summary>
    public static int[]? IntList(JsonElement body, string name)
    {
        if (Value(body, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(name, "a list of integers");
        return v.EnumerateArray().Select(e => AsInt(e, name, "a list of integers")).ToArray();
    }

    public static int AsInt(JsonElement v, string param, string what = "an integer") =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw WrongType(param, what);

    public static GatewayException WrongType(string param, string what) => GatewayException.Invalid(param, $"'{param}' must be {what}");

    /// <summary>Serializes with <paramref name="write"/> into UTF-8 bytes (responses are small; one buffer each).</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions)) write(w);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A logprob as JSON allows: OpenAI writes -9999.0 for a probability that underflowed to zero.</summary>
    public static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;
}
