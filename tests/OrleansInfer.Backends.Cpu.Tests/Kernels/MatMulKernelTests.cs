using System.Runtime.InteropServices;
using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels;

/// <summary>
/// Every native kernel on every SIMD level this CPU runs against a double-precision product of the dequantized
/// weights with the inputs the kernel sees (f32 rows, or the dequantized Q8 activation rows for Q8_0/Q4_0).
/// </summary>
public sealed unsafe class MatMulKernelTests
{
    /// <summary>Every level this CPU runs (AVX-VNNI only where the CPU has it).</summary>
    internal static IEnumerable<string> Levels() =>
        Enum.GetValues<SimdLevel>().Where(l => l <= Simd.Detected && (l != SimdLevel.AvxVnni || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)).Select(l => l.ToString());

    public static TheoryData<GgmlType, string, int, int> Cases()
    {
        var data = new TheoryData<GgmlType, string, int, int>();
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 })
            foreach (var level in Levels())
                for (var tokens = 1; tokens <= 5; tokens++)
                    foreach (var k in new[] { 32, 64, 96, 160 }) // 1, 2, 3, 5 blocks: odd counts take the 512-bit tail
                        data.Add(type, level, tokens, k);
        // Tiles of 8 activation rows (k up to QuantDot.MaxWideK) and of 4 beyond it, each followed by remainders.
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0 })
            foreach (var level in Levels())
                foreach (var tokens in new[] { 8, 11, 13, 15 })
                    foreach (var k in new[] { 96, 160, QuantDot.MaxWideK + 32 })
                        data.Add(type, level, tokens, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProductMatchesADoublePrecisionReference(GgmlType type, string levelName, int tokens, int k)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        const int n = 11; // odd: tiles of 4 weight rows plus a tail
        var rng = new Random((int)type * 1000 + (int)level * 100 + tokens * 10 + k);
        var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var wf = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var rowBytes = GgmlTypeInfo.ByteCount(type, k);
        var w = new byte[n * rowBytes];
        for (var r = 0; r < n; r++) Quantize.Row(type, wf.AsSpan(r * k, k), w.AsSpan((int)(r * rowBytes), (int)rowBytes));
        var wd = new float[n * k];
        for (var r = 0; r < n; r++) Dequantize.Row(type, w.AsSpan((int)(r * rowBytes), (int)rowBytes), wd.AsSpan(r * k, k));

        var q8RowBytes = Q8Activations.RowBytes(k);
        var q8 = (byte*)NativeMemory.AlignedAlloc((nuint)(tokens * q8RowBytes), 64);
        try
        {
            fixed (float* px = x)
            {
                for (var t = 0; t < tokens; t++) Q8Activations.Quantize(px + t * k, k, q8 + t * q8RowBytes);
            }
            var seen = WeightMatrix.ActivationFormatOf(type) == ActivationFormat.Q8 ? DequantizedActivations(q8, tokens, k) : x;
            var initial = Enumerable.Range(0, tokens * n).Select(_ => (float)rng.NextDouble()).ToArray();
            foreach (var accumulate in new[] { false, true })
            {
                var y = (float[])initial.Clone();
                fixed (float* px = x, py = y)
                fixed (byte* pw = w)
                {
                    var matrix = new WeightMatrix(type, pw, n, k, rowBytes);
                    var rows = new ActivationRows(px, q8, null, tokens, k);
                    // Two calls over row ranges split at a multiple of 4, as the parallel job splits them.
                    MatMul.Rows(matrix, rows, py, n, 0, 8, accumulate, level);
                    MatMul.Rows(matrix, rows, py, n, 8, n, accumulate, level);
                }
                for (var t = 0; t < tokens; t++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        double s = accumulate ? initial[t * n + j] : 0, magnitude = 0;
                        for (var i = 0; i < k; i++)
                        {
                            var p = (double)seen[t * k + i] * wd[j * k + i];
                            s += p;
                            magnitude += Math.Abs(p);
                        }
                        // f32 sums of k products (or of k/32 exact integer block sums scaled in f32).
                        var tolerance = 2e-6 * (magnitude + 1) * Math.Sqrt(k);
                        Assert.True(Math.Abs(s - y[t * n + j]) <= tolerance,
                            $"{type} {level}: y[{t},{j}] = {y[t * n + j]}, expected {s} within {tolerance} (accumulate {accumulate})");
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(q8);
        }
    }

    [Fact]
    public void ActivationsAreQuantizedAsLlamaCppsBlockQ8_0()
    {
        const int k = 64;
        var x = Enumerable.Range(0, k).Select(i => (float)Math.Sin(i * 0.7) * (i < 32 ? 3 : 0.01f)).ToArray();
        var row = new byte[Q8Activations.RowBytes(k)];
        fixed (float* px = x)
        fixed (byte* pr = row)
        {
            Q8Activations.Quantize(px, k, pr);
            for (var b = 0; b < 2; b++)
            {
                var block = x.AsSpan(b * 32, 32).ToArray();
                var d = block.Max(Math.Abs) / 127f;
                var id = d == 0 ? 0 : 1f / d;
                for (var lane = 0; lane < 8; lane++) Assert.Equal(d, Q8Activations.Scales(pr, k)[b * 8 + lane]);
                for (var j = 0; j < 32; j++)
                    Assert.Equal((sbyte)MathF.Round(block[j] * id, MidpointRounding.ToEven), Q8Activations.Values(pr)[b * 32 + j]);
                for (var lane = 0; lane < 8; lane++)
                {
                    var sum = 0;
                    for (var j = 0; j < 4; j++) sum += Q8Activations.Values(pr)[b * 32 + lane * 4 + j];
                    Assert.Equal(-8 * sum, Q8Activations.Offsets(pr, k)[b * 8 + lane]);
                }
            }
        }
    }

    [Fact]
    public void AllZeroBlocksQuantizeToZero()
    {
        var x = new float[32];
        var row = new byte[Q8Activations.RowBytes(32)];
        fixed (float* px = x)
        fixed (byte* pr = row)
        {
            Q8Activations.Quantize(px, 32, pr);
            Assert.Equal(0f, Q8Activations.Scales(pr, 32)[0]);
            for (var j = 0; j < 32; j++) Assert.Equal(0, Q8Activations.Values(pr)[j]);
        }
    }

    private static float[] DequantizedActivations(byte* q8, int tokens, int k)
    {
        var result = new float[tokens * k];
        for (var t = 0; t < tokens; t++)
        {
            var row = q8 + t * Q8Activations.RowBytes(k);
            for (var i = 0; i < k; i++) result[t * k + i] = Q8Activations.Values(row)[i] * Q8Activations.Scales(row, k)[i / 32 * 8];
        }
        return result;
    }
}
