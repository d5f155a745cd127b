using Grpc.Core;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Testing;
using static OrleansInfer.Gateway.Tests.Grpc.GrpcTestKit;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>Generate over gRPC against a real cluster: greedy references, several outputs, logprobs, cancellation.</summary>
public sealed class GrpcGenerateTests(GrpcServerFixture fixture) : IClassFixture<GrpcServerFixture>
{
    private Contracts.V1.Inference.InferenceClient Client => fixture.Client;

    [Fact]
    public async Task GreedyFromTextEqualsTheReference()
    {
        foreach (var c in SharedData.Reference.Cases.Where(c => c.Prompt.Length > 0))
        {
            var responses = await ReadAllAsync(Client.Generate(new GenerateRequest { Text = c.Prompt, Sampling = Greedy(c.GeneratedTokenIds.Length) }));
            Assert.Equal(c.GeneratedTokenIds, TokensOf(responses));
            Assert.Equal(c.Text, c.Prompt + TextOf(responses));
            var complete = Assert.Single(CompletesOf(responses));
            Assert.Equal("length", complete.FinishReason);
            Assert.Equal(c.PromptTokenIds.Length, complete.Usage.PromptTokens);
            Assert.Equal(c.GeneratedTokenIds.Length, complete.Usage.CompletionTokens);
            // The complete is the stream's last message.
            Assert.Equal(GenerateResponse.ResponseOneofCase.Complete, responses[^1].ResponseCase);
        }
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task GreedyFromTokenIdsEqualsTheReference()
    {
        foreach (var c in SharedData.Reference.Cases)
        {
            var request = new GenerateRequest { RequestId = $"ids-{Guid.NewGuid():N}", TokenIds = new TokenIds(), Sampling = Greedy(c.GeneratedTokenIds.Length) };
            request.TokenIds.Ids.Add(c.PromptTokenIds);
            var responses = await ReadAllAsync(Client.Generate(request));
            Assert.Equal(c.GeneratedTokenIds, TokensOf(responses));
            Assert.Equal(c.Text, c.Prompt + TextOf(responses));
        }
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task TwoSampledOutputsAreIndexedAndEachCompletes()
    {
        var sampling = new SamplingParams { Temperature = 0.9f, Seed = 1234, N = 2, MaxTokens = 12 };
        var responses = await ReadAllAsync(Client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling }));
        var first = TokensOf(responses, 0);
        var second = TokensOf(responses, 1);
        Assert.NotEmpty(first);
        Assert.NotEmpty(second);
        Assert.All(responses.Where(r => r.Chunk is not null), r => Assert.InRange(r.Chunk.Index, 0, 1));
        var completes = CompletesOf(responses);
        Assert.Equal([0, 1], completes.Select(c => c.Index).Order());
        // Only the request's last complete carries the usage, counting both outputs.
        Assert.Null(completes[0].Usage);
        Assert.Equal(first.Length + second.Length, completes[1].Usage.CompletionTokens);

        // The seed makes the request reproducible.
        var again = await ReadAllAsync(Client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling }));
        Assert.Equal(first, TokensOf(again, 0));
        Assert.Equal(second, TokensOf(again, 1));
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task LogprobsComeWithEveryToken()
    {
        var sampling = Greedy(10);
        sampling.Logprobs = 3;
        var responses = await ReadAllAsync(Client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling }));
        var chunks = responses.Where(r => r.Chunk is not null).Select(r => r.Chunk).ToList();
        Assert.Equal(10, chunks.Sum(c => c.TokenIds.Count));
        foreach (var chunk in chunks)
        {
            Assert.Equal(chunk.TokenIds, chunk.Logprobs.Select(l => l.TokenId));
            foreach (var l in chunk.Logprobs)
            {
                Assert.Equal(3, l.Top.Count);
                Assert.True(l.Logprob <= 0, $"a log-probability is at most 0, got {l.Logprob}");
                // Greedy picks the most likely token: the first of the top list.
                Assert.Equal(l.TokenId, l.Top[0].TokenId);
                Assert.Equal(l.Logprob, l.Top[0].Logprob, 4);
            }
        }
    }

    // The engine is held after the request's first step: the request is still running when the cancellation or the
    // deadline lands, however slow the machine.
    [Fact]
    public async Task CancellingMidStreamEndsTheRequestOnTheWorker()
    {
        using var cts = new CancellationTokenSource();
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 500, IgnoreEos = true };
        RpcException e;
        using (var hold = fixture.Server.HoldEngine())
        {
            using var call = Client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling }, cancellationToken: cts.Token);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(GenerateResponse.ResponseOneofCase.Chunk, call.ResponseStream.Current.ResponseCase);
            await hold.Held;
            await cts.CancelAsync();
            e = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            });
        }
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task ATinyDeadlineEndsALongRequest()
    {
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 500, IgnoreEos = true };
        RpcException e;
        using (fixture.Server.HoldEngine())
        {
            e = await FailureOf(() => ReadAllAsync(Client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling }, deadline: DateTime.UtcNow.AddMilliseconds(50))));
        }
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await fixture.Server.AssertAllBlocksFreeAsync();
    }
}
