using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Progress chunks: best_of candidates report their growth only when asked, and nothing else changes.</summary>
public sealed class ProgressChunkTests
{
    private static readonly int[] Prompt = [1, 2, 3, 4, 5];
    private static readonly SamplingParams BestOf = new() { Temperature = 1, Seed = 11, N = 2, BestOf = 4, MaxTokens = 6, Logprobs = 0 };

    private static List<GenerationChunk> Run(GenerationRequest request)
    {
        var h = new EngineHarness(new ScriptedRunner { Model = Models.ContextHash() });
        var r = h.Add(request);
        h.Run();
        var chunks = EngineHarness.Chunks(r);
        h.AssertQuiescent();
        return chunks;
    }

    private static string Describe(GenerationChunk c) =>
        $"{c.Index} [{string.Join(",", c.TokenIds)}] \"{c.Text}\" {c.FinishReason} {c.RngState} {c.CumulativeLogprob:R} " +
        string.Join(";", c.Logprobs?.Select(l => $"{l.TokenId}:{l.Logprob:R}") ?? []);

    [Fact]
    public void ACandidatesProgressIsExactlyWhatTheSameSampleStreams()
    {
        var chunks = Run(new GenerationRequest(Prompt, BestOf) { ReportProgress = true });
        var progress = chunks.Where(c => c.IsProgress).ToList();
        Assert.All(progress, c => Assert.Null(c.Usage));
        Assert.Equal(4, progress.Count(c => c.FinishReason is not null));
        // The final results come last, after every candidate ended.
        Assert.Equal(2, chunks.SkipWhile(c => c.IsProgress).Count());
        Assert.All(chunks.SkipWhile(c => c.IsProgress), c => Assert.False(c.IsProgress));

        // n = 4 streamed draws each output from the same generator as candidate i: the same chunks, token by token.
        var streamed = Run(new GenerationRequest(Prompt, BestOf with { N = 4, BestOf = null }));
        Assert.Equal(streamed.Select(Describe), progress.Select(Describe));
    }

    [Fact]
    public void ReportingProgressChangesNothingElse()
    {
        var with = Run(new GenerationRequest(Prompt, BestOf) { ReportProgress = true }).Where(c => !c.IsProgress).Select(c => Describe(c) + c.Usage);
        var without = Run(new GenerationRequest(Prompt, BestOf)).ToList();
        Assert.DoesNotContain(without, c => c.IsProgress);
        Assert.Equal(without.Select(c => Describe(c) + c.Usage), with);

        // Streamed requests never report progress: their chunks already are the record.
        var streamed = BestOf with { BestOf = null };
        var asked = Run(new GenerationRequest(Prompt, streamed) { ReportProgress = true });
        Assert.DoesNotContain(asked, c => c.IsProgress);
        Assert.Equal(Run(new GenerationRequest(Prompt, streamed)).Select(Describe), asked.Select(Describe));
    }

    [Fact]
    public async Task CollectingAStreamLeavesProgressOut()
    {
        var runner = new ScriptedRunner { Model = Models.ContextHash() };
        var engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions { DefaultSeed = 1 });
        var with = await engine.GenerateAsync(new GenerationRequest(Prompt, BestOf) { ReportProgress = true }).WaitAsync(Waits.Timeout);
        var without = await engine.GenerateAsync(new GenerationRequest(Prompt, BestOf)).WaitAsync(Waits.Timeout);
        Assert.Equal([0, 1], with.Outputs.Select(o => o.Index));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(without.Outputs[i].TokenIds, with.Outputs[i].TokenIds);
            Assert.Equal(without.Outputs[i].Text, with.Outputs[i].Text);
            Assert.Equal(without.Outputs[i].CumulativeLogprob, with.Outputs[i].CumulativeLogprob);
        }
        Assert.Equal(without.Usage with { CachedPromptTokens = 0 }, with.Usage);
        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);
    }
}
