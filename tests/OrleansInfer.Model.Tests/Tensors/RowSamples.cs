namespace OrleansInfer.Model.Tests.Tensors;

/// <summary>f32 rows of the shapes quantizers meet: weight-like, uniform, zeros, outliers, tiny, constant, sparse, large.</summary>
internal static class RowSamples
{
    public static readonly string[] Distributions =
        ["gaussian", "uniform", "zeros", "outliers", "tiny", "constant", "positive", "sparse", "large", "mixed-blocks"];

    public static float[] Row(string distribution, int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (var i = 0; i < length; i++)
        {
            x[i] = distribution switch
            {
                "gaussian" => Gaussian(rng) * 0.02f,
                "uniform" => (float)(rng.NextDouble() * 2 - 1),
                "zeros" => 0f,
                "outliers" => rng.Next(50) == 0 ? Gaussian(rng) * 40f : Gaussian(rng) * 0.05f,
                "tiny" => Gaussian(rng) * 1e-18f,
                "constant" => -0.375f,
                "positive" => (float)rng.NextDouble() * 3f + 0.5f,
                "sparse" => rng.Next(10) == 0 ? Gaussian(rng) : 0f,
                "large" => Gaussian(rng) * 3e4f,
                // Each 32-value stretch draws its own regime so scales differ wildly inside a super-block.
                "mixed-blocks" => Gaussian(rng) * MathF.Pow(10, (i / 32 * 7919 % 9) - 6),
                _ => throw new ArgumentOutOfRangeException(nameof(distribution), distribution, null),
            };
        }
        return x;
    }

    private static float Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
