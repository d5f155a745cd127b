using System.Collections;
using System.Reflection;
using OrleansInfer.Abstractions;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Grains.Mapping;

namespace OrleansInfer.Grains.Tests;

/// <summary>Every sampling field crosses the wire: a field added to SamplingParams or SamplingSpec and not mapped fails here.</summary>
public sealed class SamplingMappingTests
{
    [Fact]
    public void EveryEngineFieldSurvivesTheWire()
    {
        var original = WithEveryPropertySet(new SamplingParams());
        var back = SamplingMapping.ToEngine(SamplingMapping.ToWire(original));
        foreach (var p in Settable(typeof(SamplingParams))) AssertSame(p, p.GetValue(original), p.GetValue(back));
    }

    [Fact]
    public void EveryWireFieldReachesTheEngine()
    {
        var original = WithEveryPropertySet(new SamplingSpec());
        var back = SamplingMapping.ToWire(SamplingMapping.ToEngine(original));
        foreach (var p in Settable(typeof(SamplingSpec))) AssertSame(p, p.GetValue(original), p.GetValue(back));
    }

    [Fact]
    public void BothSidesHaveTheSameFields()
    {
        var engine = Settable(typeof(SamplingParams)).Select(p => p.Name).Order();
        var wire = Settable(typeof(SamplingSpec)).Select(p => p.Name).Order();
        Assert.Equal(engine, wire);
    }

    private static IEnumerable<PropertyInfo> Settable(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.Name != "EqualityContract");

    /// <summary>A copy of <paramref name="value"/> with every settable property given a value unlike its default.</summary>
    private static T WithEveryPropertySet<T>(T value) where T : class
    {
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(value, null)!;
        var i = 0;
        foreach (var p in Settable(typeof(T)))
        {
            i++;
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object v = type switch
            {
                _ when type == typeof(float) => 0.25f + i,
                _ when type == typeof(int) => 7 + i,
                _ when type == typeof(ulong) => 1000UL + (ulong)i,
                _ when type == typeof(bool) => !(bool)(p.GetValue(copy) ?? false),
                _ when type == typeof(int[]) || type == typeof(IReadOnlyList<int>) => new[] { i, i + 1 },
                _ when type == typeof(string[]) || type == typeof(IReadOnlyList<string>) => new[] { $"s{i}", $"t{i}" },
                _ => throw new InvalidOperationException($"{typeof(T).Name}.{p.Name}: the test does not know how to set a {p.PropertyType.Name}; teach it"),
            };
            p.SetValue(copy, v);
        }
        return copy;
    }

    private static void AssertSame(PropertyInfo p, object? expected, object? actual)
    {
        if (expected is IEnumerable e && expected is not string) Assert.True(e.Cast<object>().SequenceEqual(((IEnumerable)actual!).Cast<object>()), $"{p.DeclaringType!.Name}.{p.Name} is not carried");
        else Assert.True(Equals(expected, actual), $"{p.DeclaringType!.Name}.{p.Name} is not carried: {expected} became {actual}");
    }
}
