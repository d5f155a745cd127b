using Microsoft.Extensions.Logging;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// A step whose postprocessing fails, driven step by step: only the request that failed ends (with a typed error),
/// its blocks are freed, the runner is told, the failure is logged, and the rest of the step is kept.
/// </summary>
public sealed class FaultContainmentTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    public enum Seam
    {
        /// <summary>The tokenizer knows 7 tokens, the model 8 (a padded vocabulary): detokenizing token 7 throws.</summary>
        Detokenizer,

        /// <summary>The model returns NaN logits for prompts starting with 6; min_p then leaves the sampler nothing to draw.</summary>
        Sampler,
    }

    /// <summary>A harness where the request with prompt <c>[6]</c> fails in postprocessing at its first token, the other runs fine.</summary>
    private static EngineHarness Faulty(Seam seam)
    {
        var runner = new ScriptedRunner();
        if (seam == Seam.Detokenizer)
        {
            // After 6 the default model says 3; make it say 7.
            runner.Model = (ctx, row) => ScriptedRunner.Peak(row, ctx.Length == 1 && ctx[0] == 6 ? 7 : ScriptedRunner.Next(ctx[^1], row.Length));
            return new EngineHarness(runner, tokenizer: TestTokenizer.Create(7));
        }
        runner.Model = (ctx, row) =>
        {
            if (ctx[0] == 6) row.Fill(float.NaN);
            else ScriptedRunner.Peak(row, ScriptedRunner.Next(ctx[^1], row.Length));
        };
        return new EngineHarness(runner);
    }

    private static SamplingParams FailingParams(Seam seam) =>
        seam == Seam.Detokenizer ? Greedy(3) : new SamplingParams { Temperature = 1, MinP = 0.1f, Seed = 1, MaxTokens = 3 };

    [Theory]
    [InlineData(Seam.Detokenizer)]
    [InlineData(Seam.Sampler)]
    public void APostprocessingFailureEndsOnlyItsRequestFreesItsBlocksAndTellsTheRunner(Seam seam)
    {
        var h = Faulty(seam);
        var failing = h.Add([6], FailingParams(seam));
        var other = h.Add([4], Greedy(3));
        var failedSequence = failing.Live.Single().Id;

        var e = Assert.Throws<EngineFaultException>(() => h.Core.Step());
        Assert.Equal(EngineFaultException.PostprocessStage, e.Stage);
        var cause = e.InnerException!;
        Assert.IsType(seam == Seam.Detokenizer ? typeof(ArgumentOutOfRangeException) : typeof(IndexOutOfRangeException), cause);
        Assert.Equal($"postprocessing failed: {cause.Message}", e.Message);
        Assert.Same(e, EngineHarness.Failure(failing));
        Assert.Empty(failing.Live);
        Assert.Equal([other], h.Scheduler.Running);

        // The other request of the same step kept its token.
        var first = EngineHarness.Drain(other);
        Assert.Equal([5], first.SelectMany(c => c.TokenIds));

        var error = Assert.Single(h.Log.At(LogLevel.Error));
        Assert.Same(cause, error.Exception);
        Assert.Contains($"request {failing.Id}", error.Message);

        // The failed sequence's release goes with the next batch.
        h.Step();
        Assert.Equal([failedSequence], h.Runner.Steps[1].Released);
        h.Run();
        Assert.Equal(ScriptedRunner.Expected(4, 3), first.Concat(EngineHarness.Chunks(other)).SelectMany(c => c.TokenIds));
        h.AssertQuiescent();
    }

    [Fact]
    public void AFailureOfOneSampleOfAFannedOutRequestEndsTheWholeRequestAndFreesEveryFork()
    {
        // n = 3 from [6]: the fan-out forks two samples that share the prompt's blocks, then detokenizing fails.
        var h = Faulty(Seam.Detokenizer);
        var failing = h.Add([6, 6, 6, 6, 6], Greedy(3) with { N = 3 });
        h.Runner.Model = (ctx, row) => ScriptedRunner.Peak(row, 7);
        var e = Assert.Throws<EngineFaultException>(() => h.Core.Step());
        Assert.Same(e, EngineHarness.Failure(failing));
        Assert.Empty(failing.Live);
        Assert.Equal(h.Core.Blocks.BlockCount, h.Core.Blocks.FreeBlocks);
        h.AssertQuiescent();
    }
}
