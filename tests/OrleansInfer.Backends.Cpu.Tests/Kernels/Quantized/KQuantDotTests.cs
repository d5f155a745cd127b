using OrleansInfer.Backends.Cpu.Kernels.Quantized;
using static OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized.KQuantTestData;

namespace OrleansInfer.Backends.Cpu.Tests.Kernels.Quantized;

[Collection(SimdLevelCollection.Name)]
public sealed unsafe class KQuantDotTests
{
    /// <summary>(type, level) by name: the enums are internal to the backend.</summary>
    public static TheoryData<string, string> Paths()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in Enum.GetValues<Kind>())
            foreach (var level in RunnableLevels())
                data.Add(kind.ToString(), level.ToString());
        return data;
    }

    /// <summary>
    /// Random blocks against the exact (double) dot of the dequantized weights with the dequantized activations.
    /// The kernel's integer sums are exact; its float steps are, per super-block, dx·d, the int-to-float conversion
    /// and one fused add for each of the scaled and the mins part, then at most nb block additions, a 16-lane
    /// horizontal sum and the accumulate: fewer than nb + 8 roundings of 2^-24 relative to S, the sum of the
    /// magnitudes of every term of both parts. The bound is twice that (plus the accumulate's rounding); a wrong
    /// scale, nibble or bit moves a result by a sizeable fraction of S.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void MatchesTheExactDotOfTheDequantizedRows(string kindName, string levelName)
    {
        var (kind, level) = (Enum.Parse<Kind>(kindName), Enum.Parse<SimdLevel>(levelName));
        foreach (var k in new[] { 256, 512, 768, 2048 })
        {
            var rng = new Random(k * 31 + (int)kind);
            const int maxRows = 9, maxTokens = 6;
            var w = RandomRows(kind, maxRows, k, rng);
            var xRowBytes = Q8KActivations.RowBytes(k);
            var x = new byte[maxTokens * xRowBytes];
            var floats = Enumerable.Range(0, maxTokens * k).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            fixed (float* pf = floats)
            fixed (byte* px = x)
                for (var t = 0; t < maxTokens; t++) Q8KActivations.Quantize(pf + t * k, k, px + t * xRowBytes);
            var weights = Enumerable.Range(0, maxRows).Select(r => Dequantize(kind, w.AsSpan(r * RowBytes(kind, k)), k)).ToArray();
            var activations = Enumerable.Range(0, maxTokens).Select(t => DequantizeQ8K(x.AsSpan((int)(t * xRowBytes)), k)).ToArray();

            for (var rows = 1; rows <= maxRows; rows++)
            {
                for (var tokens = 1; tokens <= maxTokens; tokens++)
                {
                    foreach (var accumulate in new[] { false, true })
                    {
                        var ldy = rows + 3;
                        var y = Enumerable.Range(0, tokens * ldy).Select(i => (float)(i % 5) - 2f).ToArray();
                        var initial = (float[])y.Clone();
                        At(level, () => Run(kind, w, rows, x, xRowBytes, tokens, k, y, ldy, accumulate));
                        for (var t = 0; t < tokens; t++)
                        {
                            for (var r = 0; r < ldy; r++)
                            {
                                var at = t * ldy + r;
                                if (r >= rows)
                                {
                                    Assert.True(initial[at] == y[at], $"{kind} {level}: y[{t},{r}] past the {rows} rows changed to {y[at]}");
                                    continue;
                                }
                                var (exact, magnitude) = Dot(weights[r], activations[t]);
                                var expected = (accumulate ? initial[at] : 0) + exact;
                                var bound = 2 * (k / 256 + 8) * Math.ScaleB(magnitude, -24) + Math.ScaleB(Math.Abs(expected) + Math.Abs(initial[at]), -23);
                                Assert.True(Math.Abs(y[at] - expected) <= bound,
                                    $"{kind} {level} k={k} rows={rows} tokens={tokens} accumulate={accumulate}: y[{t},{r}] = {y[at]}, expected {expected} ± {bound}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// With d = dmin = 1 and activations that quantize to themselves (the largest is -127, so their scale is 1),
    /// every float step sees integers below 2^24: the result must be the integer dot exactly.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void UnitScalesGiveTheExactIntegerDot(string kindName, string levelName)
    {
        var (kind, level) = (Enum.Parse<Kind>(kindName), Enum.Parse<SimdLevel>(levelName));
        var rng = new Random(7 + (int)kind);
        const int k = 2048, rows = 5, tokens = 6;
        var w = RandomRows(kind, rows, k, rng);
        for (var b = 0; b < w.Length; b += BlockBytes(kind))
        {
            if (kind == Kind.Q6K) WriteHalf(w, b + 208, 1);
            else
            {
                WriteHalf(w, b, 1);
                WriteHalf(w, b + 2, 1);
            }
        }
        var floats = Enumerable.Range(0, tokens * k).Select(i => i % 256 == 0 ? -127f : rng.Next(-9, 10)).ToArray();
        var xRowBytes = Q8KActivations.RowBytes(k);
        var x = new byte[tokens * xRowBytes];
        fixed (float* pf = floats)
        fixed (byte* px = x)
            for (var t = 0; t < tokens; t++) Q8KActivations.Quantize(pf + t * k, k, px + t * xRowBytes);
        var y = new float[tokens * rows];
        At(level, () => Run(kind, w, rows, x, xRowBytes, tokens, k, y, rows, accumulate: false));
        for (var r = 0; r < rows; r++)
        {
            var (scaled, min) = Dequantize(kind, w.AsSpan(r * RowBytes(kind, k)), k);
            for (var t = 0; t < tokens; t++)
            {
                double exact = 0, magnitude = 0;
                for (var i = 0; i < k; i++)
                {
                    exact += (scaled[i] - min[i]) * floats[t * k + i];
                    magnitude += (Math.Abs(scaled[i]) + Math.Abs(min[i])) * Math.Abs(floats[t * k + i]);
                }
                Assert.True(magnitude < 1 << 24, $"test data: the terms must stay below 2^24, got {magnitude}");
                Assert.True(exact == y[t * rows + r], $"{kind} {level}: y[{t},{r}] = {y[t * rows + r]}, expected exactly {exact}");
            }
        }
    }

    /// <summary>Simd.Level may name AVX-VNNI on an AVX-512 CPU without it (ORLEANS_INFER_SIMD is only capped by the
    /// detected level): the kernels then run AVX2 instead of faulting.</summary>
    [Fact]
    public void AvxVnniWithoutTheFeatureRunsTheAvx2Path()
    {
        const int k = 512;
        var rng = new Random(3);
        var w = RandomRows(Kind.Q4K, 2, k, rng);
        var xf = Enumerable.Range(0, k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var x = new byte[Q8KActivations.RowBytes(k)];
        fixed (float* pf = xf)
        fixed (byte* px = x)
            Q8KActivations.Quantize(pf, k, px);
        var expected = new float[2];
        var actual = new float[2];
        At(SimdLevel.Scalar, () => Run(Kind.Q4K, w, 2, x, x.Length, 1, k, expected, 2, false));
        At(SimdLevel.AvxVnni, () => Run(Kind.Q4K, w, 2, x, x.Length, 1, k, actual, 2, false));
        for (var r = 0; r < 2; r++)
            Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-4 * (1 + Math.Abs(expected[r])), $"row {r}: AvxVnni level gave {actual[r]}, the scalar path {expected[r]}");
    }

    [Fact]
    public void ARowLengthThatIsNotWholeSuperBlocksIsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Run(Kind.Q4K, new byte[144], 1, new byte[292], 292, 1, 300, new float[1], 1, false));
        Assert.Equal("k", error.ParamName);
    }

    private static int RowBytes(Kind kind, int k) => Math.Max(1, k / 256) * BlockBytes(kind);

    private static void Run(Kind kind, byte[] w, int rows, byte[] x, long xRowBytes, int tokens, int k, float[] y, int ldy, bool accumulate)
    {
        fixed (byte* pw = w, px = x)
        fixed (float* py = y)
        {
            long rowBytes = RowBytes(kind, k);
            switch (kind)
            {
                case Kind.Q4K: KQuantDot.Q4K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, ldy, accumulate); break;
                case Kind.Q5K: KQuantDot.Q5K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, ldy, accumulate); break;
                default: KQuantDot.Q6K(pw, rowBytes, rows, px, xRowBytes, tokens, k, py, ldy, accumulate); break;
            }
        }
    }

    private static (double Exact, double Magnitude) Dot((double[] Scaled, double[] Min) w, double[] x)
    {
        double exact = 0, magnitude = 0;
        for (var i = 0; i < x.Length; i++)
        {
            exact += (w.Scaled[i] - w.Min[i]) * x[i];
            magnitude += (Math.Abs(w.Scaled[i]) + Math.Abs(w.Min[i])) * Math.Abs(x[i]);
        }
        return (exact, magnitude);
    }
}
