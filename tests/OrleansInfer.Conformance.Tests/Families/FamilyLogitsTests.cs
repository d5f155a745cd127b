using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests.Families;

/// <summary>
/// Each architecture's tiny f32 file, run by llama.cpp (LLamaSharp, F32 KV cache, no flash attention, one thread) and by
/// our CPU runner: the logits of every position of several prompts (two longer than the sliding windows of 8) agree
/// to cosine similarity at least 0.9999 and max absolute difference at most 1e-3 — through prefill (each prefix its own
/// sequence, packed into multi-token passes) and through decode (one token per pass) —, and 32-token greedy
/// continuations are identical.
/// </summary>
[Collection(FamilyFilesCollection.Name)]
public sealed class FamilyLogitsTests(FamilyFiles files, ITestOutputHelper output)
{
    public const double MinCosine = 0.9999;
    public const double MaxAbsDifference = 1e-3;

    /// <summary>
    /// llama.cpp's context: above phi3's original context of 1024, so LongRoPE picks its long factors as our runner does
    /// (llama.cpp chooses by the context it runs with, our runner by the file's context of 4096: both beyond 1024).
    /// </summary>
    private const int Context = 2048;

    private const string ShortPrompt = "Lily and Ben went to the park.";
    private const string LongPrompt = "One day, a big red ball fell into the water. Tom said, \"Lily and Ben went to the park.\" The little dog was sad because";

    /// <summary>
    /// gemma3/tiny is skipped, not loosened: there llama.cpp's own batched and one-token paths differ by 1.2e-3
    /// (<see cref="LlamaCppSpreadTests"/>), so no implementation within 1e-3 of one is bound to be within 1e-3 of the other.
    /// </summary>
    [Theory]
    [InlineData("llama/tiny")]
    [InlineData("llama/tiny-linear")]
    [InlineData("llama/tiny-yarn")]
    [InlineData("qwen2/tiny")]
    [InlineData("qwen3/tiny")]
    [InlineData("phi3/tiny")]
    [InlineData("gemma2/tiny")]
    [InlineData("gemma3/tiny", Skip = LlamaCppSpreadTests.Gemma3Reason)]
    [InlineData("deci/tiny")]
    public void LogitsOfEveryPositionMatchLlamaCpps(string model)
    {
        var path = files.PathOf(model);
        using var session = new LlamaCppSession(path, threads: 1, contextSize: Context, batchSize: 64);
        using var ours = new OurPromptLogits(path);
        var prompts = new[]
        {
            session.Tokenize(ShortPrompt, addBos: true),
            session.Tokenize(LongPrompt, addBos: true),
            RandomPrompt(session.VocabSize, 40, seed: 11),
        };
        var (worstCosine, worstDiff, where) = (1.0, 0.0, "");
        foreach (var prompt in prompts)
        {
            var theirs = session.AllPromptLogits(prompt);
            foreach (var (how, logits) in new[] { ("prefill", ours.ThroughPrefill(prompt)), ("decode", ours.ThroughDecode(prompt)) })
            {
                Assert.True(theirs.Length == logits.Length, $"{model}: llama.cpp gave {theirs.Length} logits for {prompt.Length} positions, we gave {logits.Length}");
                var vocab = ours.Vocab;
                for (var p = 0; p < prompt.Length; p++)
                {
                    var (cosine, diff) = Compare(theirs.AsSpan(p * vocab, vocab), logits.AsSpan(p * vocab, vocab));
                    if (cosine < worstCosine) worstCosine = cosine;
                    if (diff > worstDiff) (worstDiff, where) = (diff, $"position {p} of a {prompt.Length}-token prompt through {how}");
                    Assert.True(cosine >= MinCosine && diff <= MaxAbsDifference,
                        $"{model}: position {p} of a {prompt.Length}-token prompt through {how}: cosine {cosine:F7} (at least {MinCosine} expected), max |difference| {diff:G4} (at most {MaxAbsDifference} expected)");
                }
            }
        }
        output.WriteLine($"{model}: worst cosine {worstCosine:F8}, worst max |difference| {worstDiff:G4} ({where})");
    }

    [Theory]
    [MemberData(nameof(FamilyFiles.All), MemberType = typeof(FamilyFiles))]
    public void GreedyContinuationsAreLlamaCpps(string model)
    {
        var path = files.PathOf(model);
        using var session = new LlamaCppSession(path, threads: 1, contextSize: Context, batchSize: 64);
        using var ours = new OurPromptLogits(path);
        var driver = new RunnerDriver(ours.Runner);
        var id = 1;
        foreach (var prompt in new[] { session.Tokenize(ShortPrompt, addBos: true), session.Tokenize(LongPrompt, addBos: true) })
        {
            var theirs = session.GenerateGreedy(prompt, 32, stopAtEos: false);
            var (tokens, _) = driver.Greedy(id, prompt, 32);
            driver.Release(id++);
            var at = Prompts.FirstDifference(theirs, tokens);
            Assert.True(at < 0, $"{model}: greedy tokens after a {prompt.Length}-token prompt differ at step {at}:\n llama.cpp {Prompts.Ids(theirs)}\n ours      {Prompts.Ids(tokens)}");
        }
    }

    /// <summary>BOS, then ids drawn from the vocabulary past its first 3 (control) tokens.</summary>
    internal static int[] RandomPrompt(int vocab, int length, int seed)
    {
        var rng = new Random(seed);
        return [1, .. Enumerable.Range(1, length - 1).Select(_ => rng.Next(3, vocab))];
    }

    internal static (double Cosine, double MaxAbsDifference) Compare(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0, max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        }
        return (dot / Math.Sqrt(aa * bb), max);
    }
}
