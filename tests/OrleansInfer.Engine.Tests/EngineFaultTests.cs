using Microsoft.Extensions.Logging;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using static OrleansInfer.Engine.Tests.Waits;

namespace OrleansInfer.Engine.Tests;

/// <summary>
/// Failed steps on the threaded engine: the requests of the step end with <see cref="EngineFaultException"/>, the
/// failure is logged, the engine goes on with everyone else, and its health follows the failures in a row.
/// </summary>
public sealed class EngineFaultTests
{
    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    /// <summary>From 6 the default model says 3, 2, 7: token 7 fails the runner (as the next input) or the detokenizer (as output).</summary>
    [Theory]
    [InlineData(EngineFaultException.RunnerStage)]
    [InlineData(EngineFaultException.PostprocessStage)]
    public async Task AFailedStepEndsItsStreamLogsItAndTheWaitingRequestsAreServedWithoutNewWork(string stage)
    {
        var runner = new ScriptedRunner { AllowUnknownReleases = true };
        if (stage == EngineFaultException.RunnerStage) runner.FailBeforeApply = (_, batch) => batch.Tokens.Contains(7);
        var tokenizer = TestTokenizer.Create(stage == EngineFaultException.RunnerStage ? 8 : 7);
        using var bSubmitted = new ManualResetEventSlim();
        runner.BeforeExecute = (call, _) =>
        {
            if (call == 0) Wait(bSubmitted, "the second request to be submitted");
        };
        var log = new RecordingLogger();
        // One sequence per step: b waits in the engine's queue until a ends.
        var engine = new LlmEngine(runner, tokenizer, new EngineOptions { Scheduler = new SchedulerOptions { MaxNumSeqs = 1 } }, log);
        var a = engine.Submit(new GenerationRequest([6], Greedy(5)));
        var b = engine.Submit(new GenerationRequest([4], Greedy(3)));
        bSubmitted.Set();

        var received = new List<int>();
        var e = await Within(Assert.ThrowsAsync<EngineFaultException>(async () =>
        {
            await foreach (var chunk in a) received.AddRange(chunk.TokenIds);
        }), "the failing request's stream to end");
        Assert.Equal(stage, e.Stage);
        Assert.Equal(stage == EngineFaultException.RunnerStage ? [3, 2, 7] : [3, 2], received);
        var cause = e.InnerException!;
        Assert.IsType(stage == EngineFaultException.RunnerStage ? typeof(InvalidOperationException) : typeof(ArgumentOutOfRangeException), cause);
        Assert.Equal((stage == EngineFaultException.RunnerStage ? "the model runner failed: " : "postprocessing failed: ") + cause.Message, e.Message);

        var result = await Within(b.CollectAsync(), "the waiting request, with nothing new submitted");
        Assert.Equal(ScriptedRunner.Expected(4, 3), result.Output.TokenIds);
        await engine.DisposeAsync();
        var error = Assert.Single(log.At(LogLevel.Error));
        Assert.Same(cause, error.Exception);
        Assert.Empty(log.At(LogLevel.Warning));
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task FailedStepsInARowMakeTheEngineUnhealthyAndASuccessfulStepHealsIt()
    {
        var runner = new ScriptedRunner { AllowUnknownReleases = true, FailBeforeApply = (_, batch) => batch.Tokens.Contains(7) };
        // Health as of the start of each step that carries tokens: the outcome of every earlier step, published on the
        // same thread. (Steps that only send releases neither fail nor heal.)
        var seen = new List<(EngineHealth Engine, EngineHealth Load)>();
        LlmEngine? engine = null;
        runner.BeforeExecute = (_, batch) =>
        {
            if (batch.TokenCount > 0) seen.Add((engine!.Health, engine.Load.Health));
        };
        engine = new LlmEngine(runner, TestTokenizer.Create(), new EngineOptions { MaxConsecutiveFailures = 2 });
        Assert.Equal(new EngineHealth(true, 0, null), engine.Health);
        Assert.Equal(engine.Health, engine.Load.Health);

        for (var i = 0; i < 3; i++)
            await Within(Assert.ThrowsAsync<EngineFaultException>(() => engine.GenerateAsync(new GenerationRequest([7], Greedy(2)))), $"failing request {i}");
        var ok = await Within(engine.GenerateAsync(new GenerationRequest([4], Greedy(2))), "a request after the failures");
        Assert.Equal(ScriptedRunner.Expected(4, 2), ok.Output.TokenIds);
        await engine.DisposeAsync();

        Assert.Equal(5, seen.Count); // three failed prompts, then the two steps of the last request
        Assert.Equal(new EngineHealth(true, 0, null), seen[0].Engine);
        AssertFailures(seen[1].Engine, healthy: true, 1, "1 consecutive failed step");
        AssertFailures(seen[2].Engine, healthy: false, 2, "2 consecutive failed steps");
        AssertFailures(seen[3].Engine, healthy: false, 3, "3 consecutive failed steps");
        Assert.Equal(new EngineHealth(true, 0, null), seen[4].Engine);
        Assert.All(seen, s => Assert.Equal(s.Engine, s.Load));
        Assert.Equal(new EngineHealth(true, 0, null), engine.Health);
        EngineAssert.Quiescent(engine, runner);
    }

    private static void AssertFailures(EngineHealth health, bool healthy, int failures, string count)
    {
        Assert.Equal((healthy, failures), (health.IsHealthy, health.ConsecutiveFailures));
        Assert.Matches($@"^{count}; last: the model runner failed: scripted failure before apply \(call \d+\)$", health.Reason);
    }

    [Fact]
    public void TheFailureLimitMustBeAtLeastOne()
    {
        Assert.Equal(3, new EngineOptions().MaxConsecutiveFailures);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LlmEngine(new ScriptedRunner(), TestTokenizer.Create(), new EngineOptions { MaxConsecutiveFailures = 0 }));
        Assert.Equal(nameof(EngineOptions.MaxConsecutiveFailures), e.ParamName);
    }
}
