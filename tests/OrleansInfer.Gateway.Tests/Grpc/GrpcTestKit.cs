using Grpc.Core;
using Grpc.Net.Client;
using OrleansInfer.Contracts.V1;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>One gateway shared by a test class (starting one takes about a second); the tests of a class run one at a time.</summary>
public sealed class GrpcServerFixture : IAsyncLifetime
{
    public GatewayServer Server { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public Contracts.V1.Inference.InferenceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await GatewayServer.StartAsync();
        Channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        Client = new Contracts.V1.Inference.InferenceClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>What the gRPC tests share: reading a whole stream and the greedy sampling of the references.</summary>
public static class GrpcTestKit
{
    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    /// <summary>Every response of a streaming call, in order.</summary>
    public static async Task<List<GenerateResponse>> ReadAllAsync(AsyncServerStreamingCall<GenerateResponse> call)
    {
        using (call)
        {
            var all = new List<GenerateResponse>();
            await foreach (var r in call.ResponseStream.ReadAllAsync()) all.Add(r);
            return all;
        }
    }

    /// <summary>The token ids output <paramref name="index"/> streamed.</summary>
    public static int[] TokensOf(IEnumerable<GenerateResponse> responses, int index = 0) =>
        [.. responses.Where(r => r.ResponseCase == GenerateResponse.ResponseOneofCase.Chunk && r.Chunk.Index == index).SelectMany(r => r.Chunk.TokenIds)];

    public static string TextOf(IEnumerable<GenerateResponse> responses, int index = 0) =>
        string.Concat(responses.Where(r => r.ResponseCase == GenerateResponse.ResponseOneofCase.Chunk && r.Chunk.Index == index).Select(r => r.Chunk.Text));

    public static List<Complete> CompletesOf(IEnumerable<GenerateResponse> responses) =>
        [.. responses.Where(r => r.ResponseCase == GenerateResponse.ResponseOneofCase.Complete).Select(r => r.Complete)];

    /// <summary>The RpcException a call (unary or streaming, read to the end) fails with.</summary>
    public static Task<RpcException> FailureOf(Func<Task> call) => Assert.ThrowsAsync<RpcException>(call);
}
