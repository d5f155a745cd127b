using LLama.Native;
using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Testing;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests.Families;

/// <summary>
/// Past position 2048 — beyond the low-frequency wavelength of llama's tiny preset's original context (2048), where the
/// llama3 frequency factors (and linear / YaRN scaling) change the rotation most — our logits are llama.cpp's: a prompt
/// of 2080 tokens, compared at positions 2047..2079 (ours: a prefill in chunks of 512, then one decode step per
/// position), to the same bounds as every other position.
/// </summary>
[Collection(FamilyFilesCollection.Name)]
public sealed class LongPositionTests(FamilyFiles files, ITestOutputHelper output)
{
    private const int Length = 2080;
    private const int From = 2047;

    [Theory]
    [InlineData("llama/tiny")]
    [InlineData("llama/tiny-linear")]
    [InlineData("llama/tiny-yarn")]
    public void LogitsPastPosition2048MatchLlamaCpps(string model)
    {
        var path = files.PathOf(model);
        int[] prompt;
        float[][] theirs;
        using (var session = new LlamaCppSession(path, threads: 1, contextSize: Length + 32, batchSize: 512))
        {
            prompt = FamilyLogitsTests.RandomPrompt(session.VocabSize, Length, seed: 5);
            theirs = LlamaCppLogitsFrom(session, prompt, From);
        }
        using var ours = new OurPromptLogits(path);
        var driver = new RunnerDriver(ours.Runner);
        var logits = new List<float[]> { driver.Prefill(1, prompt[..(From + 1)], chunk: 512) };
        for (var p = From + 1; p < Length; p++) logits.Add(driver.Step((1, p, [prompt[p]], true))[0]);

        var (worstCosine, worstDiff) = (1.0, 0.0);
        for (var i = 0; i < theirs.Length; i++)
        {
            var (cosine, diff) = FamilyLogitsTests.Compare(theirs[i], logits[i]);
            (worstCosine, worstDiff) = (Math.Min(worstCosine, cosine), Math.Max(worstDiff, diff));
            Assert.True(cosine >= FamilyLogitsTests.MinCosine && diff <= FamilyLogitsTests.MaxAbsDifference,
                $"{model}: position {From + i}: cosine {cosine:F7} (at least {FamilyLogitsTests.MinCosine} expected), max |difference| {diff:G4} (at most {FamilyLogitsTests.MaxAbsDifference} expected)");
        }
        output.WriteLine($"{model}: positions {From}..{Length - 1}: worst cosine {worstCosine:F8}, worst max |difference| {worstDiff:G4}");
    }

    /// <summary>llama.cpp's logits at positions <paramref name="from"/>.. of one sequence, decoded in batches of its batch size.</summary>
    private static float[][] LlamaCppLogitsFrom(LlamaCppSession session, int[] prompt, int from)
    {
        session.ClearKvCache();
        var rows = new List<float[]>();
        var batch = new LLamaBatch();
        for (var start = 0; start < prompt.Length; start += session.BatchSize)
        {
            batch.Clear();
            var end = Math.Min(prompt.Length, start + session.BatchSize);
            var indices = new List<int>();
            for (var p = start; p < end; p++) indices.Add(batch.Add(prompt[p], p, LLamaSeqId.Zero, p >= from));
            session.Decode(batch);
            for (var p = Math.Max(start, from); p < end; p++) rows.Add(session.Handle.GetLogitsIth(indices[p - start]).ToArray());
        }
        return [.. rows];
    }
}
