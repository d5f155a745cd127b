using LLama.Native;
using OrleansInfer.LlamaCppPeer;
using Xunit.Abstractions;

namespace OrleansInfer.Conformance.Tests.Families;

/// <summary>
/// Why gemma3/tiny's every-position comparison is skipped rather than loosened. llama.cpp's CPU GELU reads an f16
/// table (GGML_GELU_FP16: the gate is rounded to f16 first), a step function: a summation-order difference of one f32
/// ulp in a gate moves it across an f16 rounding boundary now and then, and the output then jumps by one f16 step
/// (about 5e-4 relative), which gemma's post-feed-forward norms amplify. llama.cpp's own prompt pass (one llama_decode
/// of the whole prompt) and one-token passes sum in different orders, and on gemma3/tiny they differ by more than
/// 1e-3; on SiLU models by a few 1e-6. Our logits are as close to llama.cpp's as llama.cpp's two paths are to each other.
/// If this test ever fails (llama.cpp agreeing with itself within 1e-3), un-skip gemma3 in <see cref="FamilyLogitsTests"/>.
/// </summary>
[Collection(FamilyFilesCollection.Name)]
public sealed class LlamaCppSpreadTests(FamilyFiles files, ITestOutputHelper output)
{
    public const string Gemma3Reason =
        "llama.cpp's batched and one-token logits of this file differ by 1.2e-3 themselves (f16 GELU table): see LlamaCppSpreadTests";

    [Fact]
    public void LlamaCppsOwnPathsDifferByMoreThanTheBoundOnGemma3()
    {
        var path = files.PathOf("gemma3/tiny");
        using var session = new LlamaCppSession(path, threads: 1, contextSize: 2048, batchSize: 64);
        var prompt = FamilyLogitsTests.RandomPrompt(session.VocabSize, 40, seed: 11);
        var vocab = session.VocabSize;
        var batched = session.AllPromptLogits(prompt);
        var single = OneTokenAtATime(session, prompt);
        using var ours = new OurPromptLogits(path);
        var prefill = ours.ThroughPrefill(prompt);
        var decode = ours.ThroughDecode(prompt);

        double self = 0, oursPrefill = 0, oursDecode = 0;
        for (var p = 0; p < prompt.Length; p++)
        {
            var row = batched.AsSpan(p * vocab, vocab);
            self = Math.Max(self, FamilyLogitsTests.Compare(row, single.AsSpan(p * vocab, vocab)).MaxAbsDifference);
            oursPrefill = Math.Max(oursPrefill, FamilyLogitsTests.Compare(row, prefill.AsSpan(p * vocab, vocab)).MaxAbsDifference);
            oursDecode = Math.Max(oursDecode, FamilyLogitsTests.Compare(single.AsSpan(p * vocab, vocab), decode.AsSpan(p * vocab, vocab)).MaxAbsDifference);
        }
        output.WriteLine($"gemma3/tiny, {prompt.Length} positions, max |difference|: llama.cpp batched vs one-token {self:G4}; " +
            $"ours through prefill vs llama.cpp batched {oursPrefill:G4}; ours through decode vs llama.cpp one-token {oursDecode:G4}");
        Assert.True(self > FamilyLogitsTests.MaxAbsDifference,
            $"llama.cpp's batched and one-token logits now agree within {self:G4} (more than {FamilyLogitsTests.MaxAbsDifference} expected): un-skip gemma3/tiny in FamilyLogitsTests");
    }

    private static float[] OneTokenAtATime(LlamaCppSession session, int[] prompt)
    {
        session.ClearKvCache();
        var vocab = session.VocabSize;
        var all = new float[prompt.Length * vocab];
        var batch = new LLamaBatch();
        for (var p = 0; p < prompt.Length; p++)
        {
            batch.Clear();
            batch.Add(prompt[p], p, LLamaSeqId.Zero, true);
            session.Decode(batch);
            session.Handle.GetLogitsIth(0).CopyTo(all.AsSpan(p * vocab, vocab));
        }
        return all;
    }
}
