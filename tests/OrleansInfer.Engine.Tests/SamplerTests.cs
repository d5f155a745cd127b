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

    [Fact]
    public void PenaltiesFollowTheirDefinitions()
    {
        float[] logits = [2f, -2f, 1f, -1f, 0.5f, 3f];
        var p = new SamplingParams { RepetitionPenalty = 2f, PresencePenalty = 0.5f, FrequencyPenalty = 0.25f };
        // Prompt {0, 1}; output: token 2 three times, token 1 once.
        LogitsProcessing.ApplyPenalties(logits, p, new HashSet<int> { 0, 1 }, new Dictionary<int, int> { [2] = 3, [1] = 1 });
        // Repetition (prompt and output tokens): positive / 2, negative * 2. Then presence + frequency x count (output only).
        Assert.Equal([2f / 2, -2f * 2 - (0.5f + 0.25f), 1f / 2 - (0.5f + 0.75f), -1f, 0.5f, 3f], logits);
    }

    [Fact]
    public void WithoutPenaltiesTheLogitsAreUntouched()
    {
        float[] logits = [2f, -2f, 1f];
        LogitsProcessing.ApplyPenalties(logits, new SamplingParams(), new HashSet<int> { 0, 1, 2 }, new Dictionary<int, int> { [0] = 5 });
        Assert.Equal([2f, -2f, 1f], logits);
    }

    [Fact]
    public void TopTokensAreSortedWithTiesByLowerId()
    {
        float[] logits = [1f, 3f, 3f, 2f, 3f, -1f];
        var ids = new int[8];
        LogitsProcessing.TopTokens(logits, 3, ids);
        Assert.Equal([1, 2, 4], ids[..3]);
        LogitsProcessing.TopTokens(logits, 8, ids); // more than the vocabulary: all of it
        Assert.Equal([1, 2, 4, 3, 0, 5], ids[..6]);
        Array.Fill(ids, -7);
        LogitsProcessing.TopTokens(logits, 0, ids); // none asked: nothing written (logprobs = 0)
        Assert.All(ids, id => Assert.Equal(-7, id));
    }

    [Fact]
    public void LogprobsAreTheLogSoftmaxOfTheRow()
    {
        float[] logits = [0.5f, 2f, -1f, 2f];
        var scratch = new float[4];
        var lse = LogitsProcessing.LogSumExp(logits, scratch);
        var expected = Math.Log(logits.Sum(l => Math.Exp(l)));
        Assert.Equal(expected, lse, 5);
        var lp = LogitsProcessing.Logprobs(logits, 2, 2, lse, new int[4]);
        Assert.Equal(2, lp.TokenId);
        Assert.Equal(-1 - expected, lp.Logprob, 5);
        Assert.Equal([1, 3], lp.Top.Select(t => t.TokenId));
        Assert.All(lp.Top, t => Assert.Equal(2 - expected, t.Logprob, 5));
        Assert.Empty(LogitsProcessing.Logprobs(logits, 2, 0, lse, new int[4]).Top);
    }

    [Fact]
    public void TemperatureReshapesTheDistribution()
    {
        // At temperature 0.5, p becomes p^2 renormalized: 0.6, 0.3, 0.1 -> 0.36, 0.09, 0.01 (/ 0.46).
        var sampler = new Sampler(3);
        var rng = new Xoshiro256(77);
        var counts = new int[3];
        const int draws = 40000;
        for (var i = 0; i < draws; i++) counts[sampler.Sample(Logits(0.6, 0.3, 0.1), new SamplingParams { Temperature = 0.5f }, ref rng)]++;
        double[] expected = [0.36 / 0.46, 0.09 / 0.46, 0.01 / 0.46];
        for (var t = 0; t < 3; t++)
        {
            var sigma = Math.Sqrt(draws * expected[t] * (1 - expected[t]));
            Assert.True(Math.Abs(counts[t] - expected[t] * draws) < 5 * sigma, $"token {t}: {counts[t]} draws, expected about {expected[t] * draws}");
        }
    }

    [Fact]
    public void TopPAppliesToWhatTopKKept()
    {
        // Top-k 3 keeps 0.4, 0.3, 0.2 (mass 0.9); top-p 0.7 of that (0.63) needs the first two.
        var sampler = new Sampler(4);
        var rng = new Xoshiro256(2);
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++) seen.Add(sampler.Sample(Logits(0.4, 0.3, 0.2, 0.1), new SamplingParams { TopK = 3, TopP = 0.7f }, ref rng));
        Assert.Equal([0, 1], seen.Order());
    }

    [Fact]
    public void SamplingLeavesTheRowUnchanged()
    {
        var row = Logits(0.2, 0.3, 0.5);
        var copy = row.ToArray();
        var sampler = new Sampler(3);
        var rng = new Xoshiro256(1);
        sampler.Sample(row, new SamplingParams { Temperature = 0.7f, TopK = 2, TopP = 0.9f, MinP = 0.1f }, ref rng);
        Assert.Equal(copy, row);
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
