using System.Reflection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// The exporters a built OpenTelemetry provider feeds. The SDK keeps its processor and reader chains internal, so this
/// reads them by reflection (OpenTelemetry 1.20: TracerProviderSdk.Processor, MeterProviderSdk.Reader, composites
/// as linked lists from Head, BaseExportProcessor/BaseExportingMetricReader.Exporter); it fails loudly if they move.
/// </summary>
public static class ExportPipeline
{
    public static IReadOnlyList<Type> Exporters(TracerProvider provider) => Leaves(Member(provider, "Processor")).Select(Exporter).ToList();

    public static IReadOnlyList<Type> Exporters(MeterProvider provider) => Leaves(Member(provider, "Reader")).Select(Exporter).ToList();

    private static IEnumerable<object> Leaves(object? node)
    {
        if (node is null) yield break;
        if (node.GetType().GetField("Head", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is { } head)
        {
            for (var item = head.GetValue(node); item is not null; item = Member(item, "Next"))
                foreach (var leaf in Leaves(Member(item, "Value"))) yield return leaf;
        }
        else
        {
            yield return node;
        }
    }

    private static Type Exporter(object leaf) =>
        Member(leaf, "Exporter")?.GetType() ?? throw new InvalidOperationException($"{leaf.GetType()} has no exporter");

    private static object? Member(object target, string name)
    {
        for (var type = target.GetType(); type is not null; type = type.BaseType)
        {
            const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly;
            if (type.GetProperty(name, flags) is { } property) return property.GetValue(target);
            if (type.GetField(name, flags) is { } field) return field.GetValue(target);
        }
        throw new InvalidOperationException($"{target.GetType()} has no member {name} (did the OpenTelemetry SDK change?)");
    }
}
