using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Tests;

public sealed class BatchGeneratorTests
{
    private static readonly SamplingParams Greedy = new() { Temperature = 0, MaxTokens = 5 };

    private static int[] Expected(int last, int count, int vocab = 8)
    {
        var tokens = new int[count];
        for (var i = 0; i < count; i++) tokens[i] = last = ScriptedRunner.Next(last, vocab);
        return tokens;
    }

    [Fact]
    public void RequestsRunTogetherAndEndByLengthOrEos()
    {
        var runner = new ScriptedRunner();
        var generator = new BatchGenerator(runner, endOfGenerationTokens: [2]);
        // From 3: 2 (EOS) immediately. From 4: 5, 0, 1, 4, 5 (no EOS in 5 steps).
        var results = generator.Generate([new([1, 3], Greedy), new([1, 4], Greedy)]);

        Assert.Equal([2], results[0].Tokens);
        Assert.Equal(FinishReason.Stop, results[0].FinishReason);
        Assert.Equal(Expected(4, 5), results[1].Tokens);
        Assert.Equal(FinishReason.Length, results[1].FinishReason);
        Assert.Equal(generator.Blocks.BlockCount, generator.Blocks.FreeBlocks);
        Assert.Equal(0, runner.LiveSequences);
    }

    [Fact]
    public void IgnoreEosKeepsGenerating()
    {
        var generator = new BatchGenerator(new ScriptedRunner(), [2]);
        var result = generator.Generate([new([3], Greedy with { IgnoreEos = true })])[0];
        Assert.Equal(Expected(3, 5), result.Tokens);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void LongPromptsArePrefilledInChunksOfTheTokenBudget()
    {
        var runner = new ScriptedRunner(maxBatchTokens: 4);
        var generator = new BatchGenerator(runner, []);
        var prompt = Enumerable.Range(0, 10).Select(i => i % 8).ToArray();
        var result = generator.Generate([new(prompt, Greedy with { MaxTokens = 2 })])[0];
        Assert.Equal([4, 4, 2, 1], runner.TokensPerStep);
        Assert.Equal(Expected(prompt[^1], 2), result.Tokens);
    }

    [Fact]
    public void AtTheContextLengthTheSequenceEndsWithLength()
    {
        var runner = new ScriptedRunner(context: 12);
        var result = new BatchGenerator(runner, []).Generate([new(new int[10], Greedy with { MaxTokens = 50 })])[0];
        Assert.Equal(2, result.Tokens.Length);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void PromptsThatCanNeverFitAreRejectedNamingThePrompt()
    {
        var generator = new BatchGenerator(new ScriptedRunner(context: 12), []);
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => generator.Generate([new(new int[12], Greedy)])).Field);
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => generator.Generate([new([], Greedy)])).Field);
        Assert.Equal("prompt", Assert.Throws<InvalidRequestException>(() => generator.Generate([new([99], Greedy)])).Field);
        Assert.Equal("max_tokens", Assert.Throws<InvalidRequestException>(() => generator.Generate([new([1], Greedy with { MaxTokens = 0 })])).Field);
    }

    [Fact]
    public void SequencesWaitForBlocksWhenThePoolIsShort()
    {
        // Each sequence needs 3 blocks of 4 (4 prompt + 7 generated = 11 slots); the pool has 4.
        var runner = new ScriptedRunner(blocks: 4, blockSize: 4);
        var generator = new BatchGenerator(runner, []);
        var p = Greedy with { MaxTokens = 7 };
        var results = generator.Generate([new([1, 2, 3, 4], p), new([1, 2, 3, 5], p)]);
        Assert.Equal(Expected(4, 7), results[0].Tokens);
        Assert.Equal(Expected(5, 7), results[1].Tokens);
        Assert.Equal(4, generator.Blocks.FreeBlocks);
        Assert.Equal(0, runner.LiveSequences);
    }

    [Fact]
    public void CancellationFreesEveryBlock()
    {
        var runner = new ScriptedRunner();
        var generator = new BatchGenerator(runner, []);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.Throws<OperationCanceledException>(() => generator.Generate(
            [new([1, 2, 3], Greedy with { MaxTokens = 40 }), new([4], Greedy with { MaxTokens = 40 })],
            (_, _) =>
            {
                if (++seen == 6) cts.Cancel();
            },
            cts.Token));
        Assert.Equal(generator.Blocks.BlockCount, generator.Blocks.FreeBlocks);
        Assert.Equal(0, runner.LiveSequences);
    }

    [Fact]
    public void SeededSamplingIsIndependentOfTheBatch()
    {
        var runner = new ScriptedRunner();
        var sampling = new SamplingParams { Temperature = 1f, MaxTokens = 6, Seed = 7 };
        var alone = new BatchGenerator(runner, []).Generate([new([1], sampling)])[0].Tokens;
        var batched = new BatchGenerator(runner, []).Generate([new([3], sampling with { Seed = 8 }), new([1], sampling)])[1].Tokens;
        Assert.Equal(alone, batched);
    }
}
