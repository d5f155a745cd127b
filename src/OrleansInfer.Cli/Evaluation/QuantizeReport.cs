using System.Globalization;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>What `model quantize` prints: each tensor's type and bits (and sensitivity when measured), then the file's size.</summary>
internal static class QuantizeReport
{
    public static void Write(TextWriter output, bool json, string path, IReadOnlyList<TensorChoice> choices,
        IReadOnlyDictionary<string, double>? sensitivity, double? targetBpw)
    {
        var bytes = new FileInfo(path).Length;
        var bpw = ModelQuantizer.BitsPerWeight(choices);
        var f = CultureInfo.InvariantCulture;
        if (json)
        {
            output.WriteLine(Json.Object(w =>
            {
                w.WriteString("out", path);
                w.WriteNumber("bytes", bytes);
                w.WriteNumber("bpw", bpw);
                if (targetBpw is { } t) w.WriteNumber("target_bpw", t);
                w.WriteStartArray("tensors");
                foreach (var c in choices)
                {
                    w.WriteStartObject();
                    w.WriteString("name", c.Name);
                    w.WriteString("type", GgmlTypeInfo.Name(c.Type));
                    w.WriteNumber("bits", GgmlTypeInfo.BitsPerWeight(c.Type));
                    w.WriteNumber("bytes", c.Bytes);
                    if (c.FallbackFrom is { } from) w.WriteString("fallback_from", GgmlTypeInfo.Name(from));
                    if (sensitivity is not null && sensitivity.TryGetValue(c.Name, out var s)) w.WriteNumber("sensitivity", s);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }));
            return;
        }

        output.WriteLine(sensitivity is null ? $"{"tensor",-28} {"type",-5} {"bits",6}" : $"{"tensor",-28} {"sensitivity",12} {"type",-5} {"bits",6}");
        foreach (var c in choices)
        {
            var fallback = c.FallbackFrom is { } from ? $" (rows of {c.Shape[0]}: {GgmlTypeInfo.Name(from)} falls back)" : "";
            var bits = GgmlTypeInfo.BitsPerWeight(c.Type).ToString("F2", f);
            output.WriteLine(sensitivity is null
                ? $"{c.Name,-28} {GgmlTypeInfo.Name(c.Type),-5} {bits,6}{fallback}"
                : $"{c.Name,-28} {(sensitivity.TryGetValue(c.Name, out var s) ? s.ToString("G4", f) : "-"),12} {GgmlTypeInfo.Name(c.Type),-5} {bits,6}{fallback}");
        }
        var target = targetBpw is { } tb ? $", target {tb.ToString("F3", f)}" : "";
        output.WriteLine($"wrote {path} ({bytes:N0} bytes; {bpw.ToString("F3", f)} bits per weight over the quantized matrices{target})");
    }
}
