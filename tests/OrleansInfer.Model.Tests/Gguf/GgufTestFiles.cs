using OrleansInfer.Model.Gguf;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Model.Tests.Gguf;

/// <summary>Builds small GGUF files in a temporary folder that is removed with the instance.</summary>
public sealed class GgufTestFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-gguf-").FullName;

    public string PathFor(string name) => Path.Combine(_folder, name);

    public string Write(string name, GgufWriter writer)
    {
        var path = PathFor(name);
        writer.WriteTo(path);
        return path;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = PathFor(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A writer holding every metadata type, a nested array and one tensor of each writable type.</summary>
    public static GgufWriter Everything(uint alignment = 32)
    {
        var w = new GgufWriter(alignment);
        w.Add("u8", new GgufValue(GgufValueType.UInt8, (byte)200));
        w.Add("i8", new GgufValue(GgufValueType.Int8, (sbyte)-100));
        w.Add("u16", new GgufValue(GgufValueType.UInt16, (ushort)60000));
        w.Add("i16", new GgufValue(GgufValueType.Int16, (short)-30000));
        w.Add("u32", GgufValue.Of(4000000000u));
        w.Add("i32", GgufValue.Of(-2000000000));
        w.Add("f32", GgufValue.Of(3.25f));
        w.Add("bool", GgufValue.Of(true));
        w.Add("string", GgufValue.Of("héllo wörld ✓"));
        w.Add("u64", GgufValue.Of(ulong.MaxValue));
        w.Add("i64", new GgufValue(GgufValueType.Int64, long.MinValue));
        w.Add("f64", new GgufValue(GgufValueType.Float64, Math.PI));
        w.Add("strings", GgufValue.Of(["a", "", "ccc"]));
        w.Add("floats", GgufValue.Of([1f, -2f]));
        w.Add("nested", new GgufValue(GgufValueType.Array, new GgufArray(GgufValueType.Array, new[]
        {
            new GgufArray(GgufValueType.Int32, new[] { 1, 2, 3 }),
            new GgufArray(GgufValueType.String, new[] { "x" }),
            new GgufArray(GgufValueType.Array, new[] { new GgufArray(GgufValueType.Bool, new[] { true, false }) }),
        })));
        w.Add("empty", new GgufValue(GgufValueType.Array, new GgufArray(GgufValueType.UInt64, Array.Empty<ulong>())));
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            w.AddTensor($"t.{GgmlTypeInfo.Name(type)}", [64, 3], type, Values(64 * 3, seed: (int)type));
        }
        return w;
    }

    public static float[] Values(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
