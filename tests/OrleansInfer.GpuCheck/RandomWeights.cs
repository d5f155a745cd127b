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
                Quantize.Row(type, values.AsSpan(r * cols, cols), dst);
                Dequantize.Row(type, dst, values.AsSpan(r * cols, cols)); // the reference uses what the device holds
            }
            var view = new TensorView("random", type, [cols, rows], data, bytes);
            return (DeviceMatrix.Upload(h.Accelerator, view), values);
        }
        finally
        {
            NativeMemory.Free(data);
        }
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
