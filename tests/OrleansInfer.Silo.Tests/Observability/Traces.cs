namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>Reading a trace as the OTLP receiver got it: parent links and ancestry.</summary>
public static class Traces
{
    /// <summary>True when every span's parent is in the trace, or is <paramref name="remoteParent"/> (the client's span).</summary>
    public static bool Linked(IReadOnlyList<OtlpSpan> trace, string remoteParent)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        return trace.All(s => s.ParentSpanId == remoteParent || (s.ParentSpanId is { } p && ids.Contains(p)));
    }

    /// <summary>The spans above <paramref name="span"/>, nearest first, as far as the trace holds them.</summary>
    public static IReadOnlyList<OtlpSpan> Ancestors(IReadOnlyList<OtlpSpan> trace, OtlpSpan span)
    {
        var byId = trace.GroupBy(s => s.SpanId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var result = new List<OtlpSpan>();
        for (var s = span; s.ParentSpanId is { } p && byId.TryGetValue(p, out var parent) && result.Count < trace.Count; s = parent)
            result.Add(parent);
        return result;
    }

    /// <summary>The path from <paramref name="span"/> to the root, for failure messages.</summary>
    public static string Path(IReadOnlyList<OtlpSpan> trace, OtlpSpan span) =>
        string.Join(" <- ", new[] { span }.Concat(Ancestors(trace, span)).Select(s => $"'{s.Name}'"));
}
