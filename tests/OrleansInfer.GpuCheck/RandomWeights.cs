using System.Buffers.Binary;
using System.Runtime.InteropServices;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.GpuCheck;

/// <summary>A random weight matrix encoded in a GGUF type, uploaded as the runner would, with its exact f32 values for references.</summary>
internal static unsafe class RandomWeights
{
    public static (DeviceMatrix Device, float[] Values) Create(KernelHarness h, GgmlType type, int rows, int cols, Random rng, float scale = 0.5f)
    {
        var values = Gaussian(rng, rows * cols, scale);
        var rowBytes = GgmlTypeInfo.ByteCount(type, cols);
        var bytes = rowBytes * rows;
        var data = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, bytes));
        try
        {
            for (var r = 0; r < rows; r++)
            {
                var dst = new Span<byte>(data + r * rowBytes, (int)rowBytes);
                var row = values.AsSpan(r * cols, cols);
                Encode(type, row, dst, rng, scale);
                Dequantize.Row(type, dst, row); // the reference uses what the device holds
            }
            var view = new TensorView("random", type, [cols, rows], data, bytes);
            return (DeviceMatrix.Upload(h.Accelerator, view), values);
        }
        finally
        {
            NativeMemory.Free(data);
        }
    }

    /// <summary>
    /// Q4_K and Q6_K as random blocks (every code, scale and min pattern, negative Q6_K scales too), other types
    /// through our encoder from <paramref name="values"/>.
    /// </summary>
    public static void Encode(GgmlType type, ReadOnlySpan<float> values, Span<byte> destination, Random rng, float scale)
    {
        switch (type)
        {
            case GgmlType.Q4_K: RandomQ4K(rng, destination, scale); break;
            case GgmlType.Q6_K: RandomQ6K(rng, destination, scale); break;
            default: Quantize.Row(type, values, destination); break;
        }
    }

    /// <summary>Random Q4_K blocks: any nibbles and 6-bit scales/mins, d and dmin sized so values span about ±<paramref name="scale"/>.</summary>
    public static void RandomQ4K(Random rng, Span<byte> blocks, float scale)
    {
        rng.NextBytes(blocks);
        for (var b = 0; b < blocks.Length / 144; b++)
        {
            var block = blocks.Slice(b * 144, 144);
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)(scale * (0.5f + (float)rng.NextDouble()) / (63 * 8)));
            BinaryPrimitives.WriteHalfLittleEndian(block[2..], (Half)(scale * (0.5f + (float)rng.NextDouble()) / 63));
        }
    }

    /// <summary>Random Q6_K blocks: any codes and int8 scales (negative ones too), d sized so values span about ±<paramref name="scale"/>.</summary>
    public static void RandomQ6K(Random rng, Span<byte> blocks, float scale)
    {
        rng.NextBytes(blocks);
        for (var b = 0; b < blocks.Length / 210; b++)
            BinaryPrimitives.WriteHalfLittleEndian(blocks[(b * 210 + 208)..], (Half)(scale * (0.5f + (float)rng.NextDouble()) / (128 * 32)));
    }

    public static float[] Gaussian(Random rng, int count, float scale = 1f)
    {
        var v = new float[count];
        for (var i = 0; i < count; i++) v[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }

    /// <summary>||actual - expected||₂ / ||expected||₂.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double num = 0, den = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }
}
