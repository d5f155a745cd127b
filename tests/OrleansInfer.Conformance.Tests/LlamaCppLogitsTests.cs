using OrleansInfer.LlamaCppPeer;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// On each file llama.cpp quantized, our CPU runner's logits agree with llama.cpp's (F32 KV cache, 1 thread) at
/// every prompt position: cosine similarity at least 0.999, through prefill and through decode. Both engines
/// quantize activations on the fly (differently rounded), so the bound is on direction, not on exact values.
/// </summary>
[Collection(LlamaCppQuantizedCollection.Name)]
public sealed class LlamaCppLogitsTests(LlamaCppQuantizedFixture fixture, ITestOutputHelper output)
{
    private const double MinCosine = 0.999;

    /// <summary>A prompt of some thirty tokens in the tok512 vocabulary both models use.</summary>
    private const string Prompt = "One day, a big red ball fell into the water. Tom said, \"Lily and Ben went to the park.\"";

    [Theory]
    [MemberData(nameof(LlamaCppQuantizedFixture.Files), MemberType = typeof(LlamaCppQuantizedFixture))]
    public void PrefillLogitsOfEveryPositionAgreeWithLlamaCpps(string file) => AssertAgree(file, prefill: true);

    [Theory]
    [MemberData(nameof(LlamaCppQuantizedFixture.Files), MemberType = typeof(LlamaCppQuantizedFixture))]
    public void DecodeLogitsOfEveryPositionAgreeWithLlamaCpps(string file) => AssertAgree(file, prefill: false);

    private void AssertAgree(string file, bool prefill)
    {
        var (model, _) = LlamaCppQuantizedFixture.Split(file);
        int[] prompt;
        float[] theirs, unquantized;
        using (var session = new LlamaCppSession(fixture.Paths[file], threads: 1, contextSize: 128))
        {
            prompt = session.Tokenize(Prompt, addBos: true);
            theirs = session.AllPromptLogits(prompt);
        }
        using (var source = new LlamaCppSession(fixture.Sources[model], threads: 1, contextSize: 128))
        {
            unquantized = source.AllPromptLogits(prompt);
        }
        using var ours = new OurPromptLogits(fixture.Paths[file]);
        var vocab = ours.Vocab;
        var logits = prefill ? ours.ThroughPrefill(prompt) : ours.ThroughDecode(prompt);
        Assert.True(theirs.Length == logits.Length, $"{file}: expected {prompt.Length} x {theirs.Length / prompt.Length} logits (llama.cpp), got {logits.Length} values with a vocabulary of {vocab}");

        var cosines = Enumerable.Range(0, prompt.Length).Select(p => Cosine(theirs.AsSpan(p * vocab, vocab), logits.AsSpan(p * vocab, vocab))).ToArray();
        var quantization = Enumerable.Range(0, prompt.Length).Min(p => Cosine(theirs.AsSpan(p * vocab, vocab), unquantized.AsSpan(p * vocab, vocab)));
        var worst = Array.IndexOf(cosines, cosines.Min());
        output.WriteLine($"{file} through {(prefill ? "prefill" : "decode")}, {prompt.Length} positions: minimum cosine ours vs llama.cpp {cosines[worst]:F6} (position {worst}); " +
            $"llama.cpp on this file vs on the unquantized file: minimum {quantization:F6}");
        Assert.True(cosines[worst] >= MinCosine,
            $"{file} through {(prefill ? "prefill" : "decode")}: expected our logits' cosine similarity to llama.cpp's at least {MinCosine} at every position, got {cosines[worst]:F6} at position {worst} of {prompt.Length}");
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(aa * bb);
    }
}
