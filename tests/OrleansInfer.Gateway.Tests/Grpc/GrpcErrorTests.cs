using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Contracts.V1;
using static OrleansInfer.Gateway.Tests.Grpc.GrpcTestKit;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>Every refusal is its status code with a message naming the field, and nothing leaks a stack trace.</summary>
public sealed class GrpcErrorTests(GrpcServerFixture fixture) : IClassFixture<GrpcServerFixture>
{
    private Contracts.V1.Inference.InferenceClient Client => fixture.Client;

    private static GenerateRequest Ids(params int[] ids)
    {
        var request = new GenerateRequest { TokenIds = new TokenIds() };
        request.TokenIds.Ids.Add(ids);
        return request;
    }

    [Fact]
    public async Task ABadTemperatureIsAnInvalidArgumentNamingIt()
    {
        var e = await FailureOf(() => ReadAllAsync(Client.Generate(new GenerateRequest { Text = "Hello", Sampling = new SamplingParams { Temperature = -1 } })));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("temperature: ", e.Status.Detail);
        Assert.DoesNotContain(" at ", e.Status.Detail);
        await fixture.Server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task ATooLongPromptNamesTheContextAndItsLength()
    {
        var context = (await fixture.Server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength;
        var e = await FailureOf(() => ReadAllAsync(Client.Generate(Ids([.. Enumerable.Repeat(300, 600)]))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal($"prompt: This model's maximum context length is {context} tokens, but the prompt has 600 tokens", e.Status.Detail);

        // A prompt as long as the context leaves no room for a token either.
        e = await FailureOf(() => ReadAllAsync(Client.Generate(Ids([.. Enumerable.Repeat(300, context)]))));
        Assert.Equal($"prompt: This model's maximum context length is {context} tokens, but the prompt has {context} tokens", e.Status.Detail);

        var text = string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 100));
        e = await FailureOf(() => ReadAllAsync(Client.Generate(new GenerateRequest { Text = text })));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"maximum context length is {context} tokens", e.Status.Detail);
    }

    [Fact]
    public async Task InputMustBeGivenAndInTheVocabulary()
    {
        var e = await FailureOf(() => ReadAllAsync(Client.Generate(new GenerateRequest())));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("text: ", e.Status.Detail);

        e = await FailureOf(() => ReadAllAsync(Client.Generate(Ids(1, 100000))));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("token_ids: token id 100000 is outside the vocabulary of 512", e.Status.Detail);

        var detokenize = new DetokenizeRequest();
        detokenize.TokenIds.Add(-1);
        e = await FailureOf(() => Client.DetokenizeAsync(detokenize).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("token_ids: ", e.Status.Detail);
    }

    [Fact]
    public async Task AnUnknownModelIsNotFound()
    {
        var e = await FailureOf(() => ReadAllAsync(Client.Generate(new GenerateRequest { Model = "gpt-17", Text = "Hello" })));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("gpt-17", e.Status.Detail);
        e = await FailureOf(() => Client.TokenizeAsync(new TokenizeRequest { Model = "gpt-17", Text = "Hello" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task ChatWithoutATemplateIsAnInvalidArgument()
    {
        var request = new ChatRequest();
        request.Messages.Add(new ChatMessage { Role = "user", Content = "Hi" });
        var e = await FailureOf(() => ReadAllAsync(Client.Chat(request)));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("messages: ", e.Status.Detail);
        Assert.Contains("chat template", e.Status.Detail);
    }

    [Fact]
    public async Task AFullQueueIsResourceExhaustedWithRetryAfter()
    {
        await using var server = await GatewayServer.StartAsync(o => o.MaxQueuedRequests = 0);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var e = await FailureOf(() => ReadAllAsync(client.Generate(new GenerateRequest { Text = "Hello" })));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.True(long.TryParse(e.Trailers.GetValue("retry-after-ms"), out var ms) && ms > 0, "expected a retry-after-ms trailer");
    }

    [Fact]
    public async Task TheGatewaysRequestTimeoutIsDeadlineExceeded()
    {
        await using var server = await GatewayServer.StartAsync(o => o.RequestTimeout = TimeSpan.FromMilliseconds(50));
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 500, IgnoreEos = true };
        RpcException e;
        // The engine is held: the request cannot finish before the timeout, however slow the machine.
        using (server.HoldEngine())
        {
            e = await FailureOf(() => ReadAllAsync(client.Generate(new GenerateRequest { Text = "Once upon a time", Sampling = sampling })));
        }
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Contains("request timeout", e.Status.Detail);
        await server.AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task WithKeysACallNeedsBearerMetadata()
    {
        await using var server = await GatewayServer.StartAsync(o => o.ApiKeys = ["k"]);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var client = new Contracts.V1.Inference.InferenceClient(channel);
        var e = await FailureOf(() => client.ListModelsAsync(new ListModelsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        e = await FailureOf(() => ReadAllAsync(client.Generate(new GenerateRequest { Text = "Hello" }, new Metadata { { "authorization", "Bearer wrong" } })));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        var key = new Metadata { { "authorization", "Bearer k" } };
        Assert.Single((await client.ListModelsAsync(new ListModelsRequest(), key)).Models);
        var responses = await ReadAllAsync(client.Generate(new GenerateRequest { Text = "Hello", Sampling = Greedy(4) }, key));
        Assert.Equal(4, TokensOf(responses).Length);
    }
}
