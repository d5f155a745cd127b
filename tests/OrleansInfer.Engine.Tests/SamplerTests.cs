using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Tests;

public sealed class SamplerTests
{
    private static float[] Logits(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void GreedyPicksTheLowestIdAmongEqualMaxima()
    {
        Assert.Equal(1, Sampler.Greedy([0f, 3f, 3f, -1f]));
        var sampler = new Sampler(4);
        var rng = new Xoshiro256(1);
        Assert.Equal(1, sampler.Sample([0f, 3f, 3f, -1f], new SamplingParams { Temperature = 0 }, ref rng));
    }

    [Fact]
    public void SampledFrequenciesFollowTheDistribution()
    {
        var probabilities = new[] { 0.5, 0.25, 0.125, 0.125 };
        var sampler = new Sampler(4);
        var rng = new Xoshiro256(123);
        var counts = new int[4];
        const int draws = 40000;
        for (var i = 0; i < draws; i++) counts[sampler.Sample(Logits(probabilities), new SamplingParams(), ref rng)]++;
        for (var t = 0; t < 4; t++)
        {
            var expected = probabilities[t] * draws;
            // 5 standard deviations of a binomial count: a seeded run, far from the edge.
            var sigma = Math.Sqrt(draws * probabilities[t] * (1 - probabilities[t]));
            Assert.True(Math.Abs(counts[t] - expected) < 5 * sigma, $"token {t}: {counts[t]} draws, expected about {expected}");
        }
    }

    [Fact]
    public void TopKKeepsOnlyTheKMostLikely()
    {
        var sampler = new Sampler(5);
        var rng = new Xoshiro256(5);
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++) seen.Add(sampler.Sample(Logits(0.1, 0.3, 0.05, 0.25, 0.3), new SamplingParams { TopK = 2 }, ref rng));
        Assert.Equal([1, 4], seen.Order());
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // Sorted: 0.4 (id 2), 0.3 (id 0), 0.2 (id 3), 0.1 (id 1): top-p 0.65 keeps ids 2 and 0.
        var sampler = new Sampler(4);
        var rng = new Xoshiro256(9);
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++) seen.Add(sampler.Sample(Logits(0.3, 0.1, 0.4, 0.2), new SamplingParams { TopP = 0.65f }, ref rng));
        Assert.Equal([0, 2], seen.Order());
    }

    [Fact]
    public void TopPOverALargeVocabularyNeedsNoFullSortAndStaysExact()
    {
        const int vocab = 32000;
        var logits = new float[vocab];
        var rng = new Random(3);
        for (var i = 0; i < vocab; i++) logits[i] = (float)(rng.NextDouble() * 4);
        logits[777] = 20; // dominates: almost all mass
        var sampler = new Sampler(vocab);
        var x = new Xoshiro256(1);
        for (var i = 0; i < 50; i++) Assert.Equal(777, sampler.Sample((float[])logits.Clone(), new SamplingParams { TopP = 0.5f }, ref x));
    }

    [Fact]
    public void MinPDropsTokensBelowAFractionOfTheTop()
    {
        var sampler = new Sampler(4);
        var rng = new Xoshiro256(11);
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++) seen.Add(sampler.Sample(Logits(0.5, 0.3, 0.15, 0.05), new SamplingParams { MinP = 0.5f }, ref rng));
        Assert.Equal([0, 1], seen.Order());
    }

    [Fact]
    public void ASeedReproducesTheSameDraws()
    {
        var sampler = new Sampler(6);
        int[] Draw(ulong seed)
        {
            var rng = new Xoshiro256(seed);
            return Enumerable.Range(0, 50).Select(_ => sampler.Sample(Logits(0.2, 0.2, 0.2, 0.2, 0.1, 0.1), new SamplingParams { Temperature = 0.9f }, ref rng)).ToArray();
        }
        Assert.Equal(Draw(42), Draw(42));
        Assert.NotEqual(Draw(42), Draw(43));
    }

    [Fact]
    public void GeneratorStateSurvivesSaveAndRestore()
    {
        var a = new Xoshiro256(99);
        a.NextUInt64();
        var b = Xoshiro256.FromState(a.State);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Theory]
    [InlineData("temperature", -1f, 1f, 0f, 0, 16)]
    [InlineData("temperature", float.NaN, 1f, 0f, 0, 16)]
    [InlineData("top_p", 1f, 0f, 0f, 0, 16)]
    [InlineData("top_p", 1f, 1.5f, 0f, 0, 16)]
    [InlineData("min_p", 1f, 1f, -0.1f, 0, 16)]
    [InlineData("top_k", 1f, 1f, 0f, -3, 16)]
    [InlineData("max_tokens", 1f, 1f, 0f, 0, 0)]
    public void BadParametersNameTheField(string field, float temperature, float topP, float minP, int topK, int maxTokens)
    {
        var p = new SamplingParams { Temperature = temperature, TopP = topP, MinP = minP, TopK = topK, MaxTokens = maxTokens };
        var e = Assert.Throws<InvalidRequestException>(() => p.Validate());
        Assert.Equal(field, e.Field);
    }
}
