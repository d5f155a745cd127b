using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Requests the engine refuses at submission, naming the field at fault.</summary>
public sealed class ValidationTests
{
    private static readonly Dictionary<string, SamplingParams> Cases = new()
    {
        ["negative temperature"] = new() { Temperature = -0.5f },
        ["NaN temperature"] = new() { Temperature = float.NaN },
        ["infinite temperature"] = new() { Temperature = float.PositiveInfinity },
        ["top_p 0"] = new() { TopP = 0f },
        ["top_p above 1"] = new() { TopP = 1.01f },
        ["NaN top_p"] = new() { TopP = float.NaN },
        ["negative min_p"] = new() { MinP = -0.1f },
        ["negative top_k"] = new() { TopK = -1 },
        ["max_tokens 0"] = new() { MaxTokens = 0 },
        ["negative max_tokens"] = new() { MaxTokens = -3 },
        ["repetition_penalty 0"] = new() { RepetitionPenalty = 0f },
        ["presence_penalty above 2"] = new() { PresencePenalty = 2.5f },
        ["frequency_penalty below -2"] = new() { FrequencyPenalty = -3f },
        ["beams with temperature"] = new() { BeamWidth = 2, Temperature = 0.5f },
        ["too many beams"] = new() { BeamWidth = 65, Temperature = 0 },
        ["n above the beams"] = new() { BeamWidth = 2, N = 3, Temperature = 0 },
        ["best_of with beams"] = new() { BeamWidth = 2, BestOf = 2, Temperature = 0 },
        ["NaN length penalty"] = new() { BeamWidth = 2, Temperature = 0, LengthPenalty = float.NaN },
        ["stop strings with beams"] = new() { BeamWidth = 2, Temperature = 0, Stop = ["a"] },
        ["empty stop string"] = new() { Stop = [""] },
        ["stop token past the vocabulary"] = new() { StopTokenIds = [8] },
        ["negative stop token"] = new() { StopTokenIds = [-1] },
        ["n 0"] = new() { N = 0 },
        ["best_of below n"] = new() { N = 3, BestOf = 2 },
        ["logprobs above 20"] = new() { Logprobs = 21 },
    };

    [Theory]
    [InlineData("temperature", "negative temperature")]
    [InlineData("temperature", "NaN temperature")]
    [InlineData("temperature", "infinite temperature")]
    [InlineData("top_p", "top_p 0")]
    [InlineData("top_p", "top_p above 1")]
    [InlineData("top_p", "NaN top_p")]
    [InlineData("min_p", "negative min_p")]
    [InlineData("top_k", "negative top_k")]
    [InlineData("max_tokens", "max_tokens 0")]
    [InlineData("max_tokens", "negative max_tokens")]
    [InlineData("repetition_penalty", "repetition_penalty 0")]
    [InlineData("presence_penalty", "presence_penalty above 2")]
    [InlineData("frequency_penalty", "frequency_penalty below -2")]
    [InlineData("beam_width", "beams with temperature")]
    [InlineData("beam_width", "too many beams")]
    [InlineData("n", "n above the beams")]
    [InlineData("best_of", "best_of with beams")]
    [InlineData("length_penalty", "NaN length penalty")]
    [InlineData("stop", "stop strings with beams")]
    [InlineData("stop", "empty stop string")]
    [InlineData("stop_token_ids", "stop token past the vocabulary")]
    [InlineData("stop_token_ids", "negative stop token")]
    [InlineData("n", "n 0")]
    [InlineData("best_of", "best_of below n")]
    [InlineData("logprobs", "logprobs above 20")]
    public async Task BadSamplingParametersNameTheField(string field, string name)
    {
        var runner = new ScriptedRunner();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var e = Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest([1, 4], Cases[name])));
        Assert.Equal(field, e.Field);
        Assert.StartsWith(field + ": ", e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.Reason));
        // SamplingParams.Validate catches the same, except what only the engine knows (stop strings are an engine limit of beams).
        if (name != "stop strings with beams") Assert.Equal(field, Assert.Throws<InvalidRequestException>(() => Cases[name].Validate(8)).Field);
        await engine.DisposeAsync();
        Assert.Empty(runner.Steps);
        EngineAssert.Quiescent(engine, runner);
    }

    [Theory]
    [InlineData("prompt", 64, 0, 16, 1)] // no tokens
    [InlineData("prompt", 64, 64, 1, 1)] // fills the whole context
    [InlineData("prompt", 64, 80, 1, 1)]
    [InlineData("max_tokens", 256, 10, 200, 1)] // 210 tokens need 53 blocks of 4; the pool has 32
    [InlineData("max_tokens", 256, 8, 30, 4)] // 2 shared prompt blocks + 4 x 8 blocks of output
    public void RequestsThatCanNeverFitAreRejected(string field, int context, int promptLength, int maxTokens, int n)
    {
        var runner = new ScriptedRunner(context: context, blocks: 32, blockSize: 4);
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var prompt = Enumerable.Range(0, promptLength).Select(i => i % 8).ToArray();
        var e = Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest(prompt, new SamplingParams { MaxTokens = maxTokens, N = n })));
        Assert.Equal(field, e.Field);
        engine.Dispose();
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public void PromptTokensOutsideTheVocabularyAreRejected()
    {
        var runner = new ScriptedRunner();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest([1, 8], new SamplingParams()))).Field);
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest([-1], new SamplingParams()))).Field);
        engine.Dispose();
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task AtTheEdgeOfThePoolAndTheContextRequestsAreAccepted()
    {
        var runner = new ScriptedRunner(context: 256, blocks: 32, blockSize: 4);
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        // 8 prompt tokens + 30 new x 3 outputs: 2 shared blocks + 3 x 8 = 26 of 32.
        var result = await engine.GenerateAsync(new GenerationRequest([1, 2, 3, 4, 5, 6, 7, 4], new SamplingParams { MaxTokens = 30, N = 3, Seed = 1, IgnoreEos = true }))
            .WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(3, result.Outputs.Count);
        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);

        // The context caps the need: 63 prompt tokens leave room for exactly one more.
        runner = new ScriptedRunner(context: 64, blocks: 16, blockSize: 4);
        engine = new LlmEngine(runner, TestTokenizer.Create());
        var prompt = Enumerable.Range(0, 63).Select(i => 4).ToArray();
        var capped = await engine.GenerateAsync(new GenerationRequest(prompt, new SamplingParams { MaxTokens = 1000, Temperature = 0 })).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal([5], capped.Output.TokenIds);
        Assert.Equal(FinishReason.Length, capped.Output.FinishReason);
        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);
    }

    [Theory]
    [InlineData(2, 64, 3)] // more beams than sequences per step
    [InlineData(16, 1, 2)] // more beams than tokens per step
    public void BeamsThatCannotAdvanceTogetherInOneStepAreRejected(int maxNumSeqs, int maxNumBatchedTokens, int beams)
    {
        var runner = new ScriptedRunner();
        var engine = new LlmEngine(runner, TestTokenizer.Create(),
            new EngineOptions { Scheduler = new SchedulerOptions { MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = maxNumBatchedTokens } });
        var e = Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest([1, 4], new SamplingParams { Temperature = 0, BeamWidth = beams })));
        Assert.Equal("beam_width", e.Field);
        engine.Dispose();
        EngineAssert.Quiescent(engine, runner);
    }
}
