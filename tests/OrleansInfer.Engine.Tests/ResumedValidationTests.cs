using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Tests;

/// <summary>Resumed outputs the engine refuses at submission, with the field "resumed" and the reason.</summary>
public sealed class ResumedValidationTests
{
    private static readonly SamplingParams ThreeOutputs = new() { Temperature = 1, Seed = 1, N = 3, MaxTokens = 5 };
    private static readonly SamplingParams BestOfFour = new() { Temperature = 1, Seed = 1, N = 2, BestOf = 4, MaxTokens = 5 };

    private static TokenLogprobs Lp(int token) => new(token, -1f, []);

    private static readonly Dictionary<string, (int[] Prompt, SamplingParams Sampling, ResumedOutput[] Resumed, string Reason)> Cases = new()
    {
        ["negative index"] = ([1, 4], ThreeOutputs, [new(-1, [3])], "index -1 is outside the request's 3 output(s)"),
        ["index past n"] = ([1, 4], ThreeOutputs, [new(3, [3])], "index 3 is outside the request's 3 output(s)"),
        ["index past best_of"] = ([1, 4], BestOfFour, [new(4, [3])], "index 4 is outside the request's 4 candidate(s)"),
        ["index listed twice"] = ([1, 4], ThreeOutputs, [new(1, [3]), new(1, [4])], "output 1 is listed twice"),
        ["token past the vocabulary"] = ([1, 4], ThreeOutputs, [new(0, [3, 8])], "output 0: token id 8 is outside the vocabulary of 8"),
        ["negative token"] = ([1, 4], ThreeOutputs, [new(0, [-1])], "output 0: token id -1 is outside the vocabulary of 8"),
        ["unfinished at max_tokens"] = ([1, 4], ThreeOutputs, [new(2, [3, 3, 3, 3, 3])], "output 2 has 5 tokens of max_tokens 5 but is not finished"),
        ["unfinished filling the context"] = (Enumerable.Repeat(4, 60).ToArray(), ThreeOutputs with { N = 1 }, [new(0, [3, 3, 3, 3])],
            "output 0: 60 prompt and 4 generated tokens leave no room in the context of 64"),
        ["finished past max_tokens"] = ([1, 4], ThreeOutputs, [new(0, [3, 3, 3, 3, 3, 3]) { Finished = FinishReason.Length }], "output 0 has 6 tokens, over max_tokens 5"),
        ["finished with no tokens"] = ([1, 4], ThreeOutputs, [new(0, []) { Finished = FinishReason.Stop }], "output 0 is finished but has no tokens"),
        ["every output finished"] = ([1, 4], ThreeOutputs,
            [new(0, [3]) { Finished = FinishReason.Stop }, new(1, [3]) { Finished = FinishReason.Stop }, new(2, [3]) { Finished = FinishReason.Stop }],
            "all 3 outputs already finished: there is nothing to resume"),
        ["beam search"] = ([1, 4], new SamplingParams { Temperature = 0, BeamWidth = 2, MaxTokens = 5 }, [new(0, [3])], "beam search cannot be resumed; restart it"),
        ["logprobs not matching the tokens"] = ([1, 4], ThreeOutputs with { Logprobs = 0 }, [new(0, [3, 4]) { Logprobs = [Lp(3)] }], "output 0 has 1 logprobs entries for 2 tokens"),
        ["candidate without its logprobs"] = ([1, 4], BestOfFour with { Logprobs = 0 }, [new(1, [3, 4])], "candidate 1 has no logprobs, and the request asks for them"),
        ["null entry"] = ([1, 4], ThreeOutputs, [null!], "an entry or its tokens are null"),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task BadResumedOutputsAreRejectedNamingTheField(string name)
    {
        var (prompt, sampling, resumed, reason) = Cases[name];
        var runner = new ScriptedRunner();
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        var e = Assert.Throws<InvalidRequestException>(() => engine.Submit(new GenerationRequest(prompt, sampling) { Resumed = resumed }));
        Assert.Equal("resumed", e.Field);
        Assert.Equal(reason, e.Reason);
        await engine.DisposeAsync();
        Assert.Empty(runner.Steps);
        EngineAssert.Quiescent(engine, runner);
    }

    [Fact]
    public async Task ResumedOutputsAtTheLimitsAreAccepted()
    {
        var runner = new ScriptedRunner { Model = Models.ContextHash() };
        var engine = new LlmEngine(runner, TestTokenizer.Create());
        // Output 0 one token short of max_tokens, output 1 finished at exactly max_tokens, output 2 (the last index) not started.
        var request = new GenerationRequest([1, 4], ThreeOutputs with { IgnoreEos = true })
        {
            Resumed = [new(0, [3, 3, 3, 3]), new(1, [4, 4, 4, 4, 4]) { Finished = FinishReason.Length }],
        };
        var result = await engine.GenerateAsync(request).WaitAsync(Waits.Timeout);
        // Streams carry only what is new: one token for output 0, five for output 2, none for output 1.
        Assert.Equal([0, 2], result.Outputs.Select(o => o.Index));
        Assert.Single(result.Outputs[0].TokenIds);
        Assert.Equal(5, result.Outputs[1].TokenIds.Length);
        Assert.Equal(new UsageInfo(2, 15, 0), result.Usage);
        await engine.DisposeAsync();
        EngineAssert.Quiescent(engine, runner);
    }
}
