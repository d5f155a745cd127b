using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using OrleansInfer.Model.Tensors;
using static OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized.KQuantTestData;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized;

/// <summary>
/// The kernels and this suite's reading of the formats against OrleansInfer.Model's codecs, which are checked bit
/// for bit against llama.cpp's libggml: the same layout understanding is not shared by test and code alone.
/// </summary>
[Collection(SimdLevelCollection.Name)]
public sealed unsafe class KQuantModelFormatTests
{
    [Fact]
    public void ActivationsEqualTheModelsQ8KEncodingAtEveryLevel()
    {
        var rng = new Random(21);
        const int k = 256 * 16;
        var x = new float[k];
        for (var i = 0; i < k; i++)
        {
            var block = i / 256;
            x[i] = block == 3 ? 0f
                : block % 4 == 1 ? (i % 256 == 9 ? 127f : rng.Next(-126, 126) + 0.5f)
                : (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, block % 7 - 3));
        }
        var expected = new byte[k / 256 * Q8KActivations.BlockBytes];
        Quantize.Row(GgmlType.Q8_K, x, expected);
        foreach (var level in RunnableLevels())
        {
            var actual = new byte[expected.Length];
            At(level, () =>
            {
                fixed (float* px = x)
                fixed (byte* pa = actual)
                    Q8KActivations.Quantize(px, k, pa);
            });
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{level}: first difference from the model's Q8_K at byte {expected.AsSpan().CommonPrefixLength(actual)}");
        }
    }

    /// <summary>This suite's exact reading equals the model's ggml-exact f32 dequantization to within its float
    /// roundings (d·scale, dmin·min, the product and the difference: 4 of 2^-24 relative to the two parts).</summary>
    [Theory]
    [InlineData("Q4K")]
    [InlineData("Q5K")]
    [InlineData("Q6K")]
    public void TheSuitesDequantizationAgreesWithTheModels(string kindName)
    {
        var kind = Enum.Parse<Kind>(kindName);
        const int k = 256 * 8;
        var w = RandomRows(kind, 1, k, new Random(5));
        var model = new float[k];
        OrleansInfer.Model.Tensors.Dequantize.Row(TypeOf(kind), w, model);
        var (scaled, min) = KQuantTestData.Dequantize(kind, w, k);
        for (var i = 0; i < k; i++)
        {
            var exact = scaled[i] - min[i];
            Assert.True(Math.Abs(model[i] - exact) <= Math.ScaleB(Math.Abs(scaled[i]) + Math.Abs(min[i]), -22),
                $"{kind} weight {i}: the model dequantizes {model[i]}, this suite {exact}");
        }
    }

    /// <summary>Weights the model's quantizer made from real-valued rows (realistic scales and mins, not random
    /// bytes) against the double dot of the model's dequantized rows; the bound of
    /// <see cref="KQuantDotTests.MatchesTheExactDotOfTheDequantizedRows"/> plus the dequantization's 4 roundings.</summary>
    [Theory]
    [InlineData("Q4K")]
    [InlineData("Q5K")]
    [InlineData("Q6K")]
    public void QuantizedModelRowsMatchTheirDequantizedDot(string kindName)
    {
        var kind = Enum.Parse<Kind>(kindName);
        const int k = 256 * 6, rows = 7, tokens = 5;
        var rng = new Random(99);
        var rowBytes = k / 256 * BlockBytes(kind);
        var w = new byte[rows * rowBytes];
        var source = Enumerable.Range(0, rows * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        for (var r = 0; r < rows; r++) Quantize.Row(TypeOf(kind), source.AsSpan(r * k, k), w.AsSpan(r * rowBytes, rowBytes));
        var xRowBytes = Q8KActivations.RowBytes(k);
        var x = new byte[tokens * xRowBytes];
        var xf = Enumerable.Range(0, tokens * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        fixed (float* pf = xf)
        fixed (byte* px = x)
            for (var t = 0; t < tokens; t++) Q8KActivations.Quantize(pf + t * k, k, px + t * xRowBytes);
        foreach (var level in RunnableLevels())
        {
            var y = new float[tokens * rows];
            At(level, () =>
            {
                fixed (byte* pw = w, px = x)
                fixed (float* py = y)
                {
                    if (kind == Kind.Q4K) KQuantDot.Q4K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, rows, false);
                    else if (kind == Kind.Q5K) KQuantDot.Q5K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, rows, false);
                    else KQuantDot.Q6K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, rows, false);
                }
            });
            for (var r = 0; r < rows; r++)
            {
                var weights = new float[k];
                OrleansInfer.Model.Tensors.Dequantize.Row(TypeOf(kind), w.AsSpan(r * rowBytes, rowBytes), weights);
                var (scaled, min) = KQuantTestData.Dequantize(kind, w.AsSpan(r * rowBytes, rowBytes), k);
                for (var t = 0; t < tokens; t++)
                {
                    var activations = DequantizeQ8K(x.AsSpan((int)(t * xRowBytes)), k);
                    double expected = 0, magnitude = 0;
                    for (var i = 0; i < k; i++)
                    {
                        expected += weights[i] * activations[i];
                        magnitude += (Math.Abs(scaled[i]) + Math.Abs(min[i])) * Math.Abs(activations[i]);
                    }
                    var bound = 2 * (k / 256 + 12) * Math.ScaleB(magnitude, -24);
                    Assert.True(Math.Abs(y[t * rows + r] - expected) <= bound, $"{kind} {level}: y[{t},{r}] = {y[t * rows + r]}, expected {expected} ± {bound}");
                }
            }
        }
    }

    private static GgmlType TypeOf(Kind kind) => kind switch { Kind.Q4K => GgmlType.Q4_K, Kind.Q5K => GgmlType.Q5_K, _ => GgmlType.Q6_K };
}
