using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Contracts.V1;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests.Grpc;

/// <summary>Tokenize, Detokenize, ListModels, GetClusterStatus, gRPC health and server reflection.</summary>
public sealed class GrpcServiceTests(GrpcServerFixture fixture) : IClassFixture<GrpcServerFixture>
{
    private Contracts.V1.Inference.InferenceClient Client => fixture.Client;

    [Fact]
    public async Task TokenizeAndDetokenizeRoundTrip()
    {
        var c = SharedData.Reference.Cases.First(c => c.Prompt.Length > 0);
        var tokens = await Client.TokenizeAsync(new TokenizeRequest { Text = c.Prompt });
        Assert.Equal(c.PromptTokenIds, tokens.TokenIds);
        Assert.Equal(c.PromptTokenIds.Length, tokens.Count);
        Assert.Equal((await fixture.Server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength, tokens.MaxModelLen);

        var bare = await Client.TokenizeAsync(new TokenizeRequest { Text = c.Prompt, AddSpecialTokens = false });
        Assert.Equal(c.PromptTokenIds[1..], bare.TokenIds);

        var request = new DetokenizeRequest { Model = fixture.Server.ModelId };
        request.TokenIds.Add(c.PromptTokenIds);
        request.TokenIds.Add(c.GeneratedTokenIds);
        Assert.Equal(c.Text, (await Client.DetokenizeAsync(request)).Text);
    }

    [Fact]
    public async Task ListModelsNamesTheServedModel()
    {
        var model = Assert.Single((await Client.ListModelsAsync(new ListModelsRequest())).Models);
        Assert.Equal(fixture.Server.ModelId, model.Id);
        Assert.Equal((await fixture.Server.Cluster.GetModelAsync(null, CancellationToken.None)).ContextLength, model.MaxModelLen);
        Assert.True(model.MaxModelLen > 0);
        Assert.False(model.HasChatTemplate);
    }

    [Fact]
    public async Task ClusterStatusListsTheWorker()
    {
        var worker = Assert.Single((await Client.GetClusterStatusAsync(new GetClusterStatusRequest())).Workers);
        Assert.Equal(fixture.Server.ModelId, worker.Model);
        Assert.Equal(256, worker.KvTotalBlocks);
        Assert.True(worker.Healthy);
        Assert.StartsWith("CPU", worker.Device);
        Assert.False(string.IsNullOrEmpty(worker.Key));
        Assert.Single((await Client.GetClusterStatusAsync(new GetClusterStatusRequest { Model = fixture.Server.ModelId })).Workers);
        var e = await Assert.ThrowsAsync<RpcException>(() => Client.GetClusterStatusAsync(new GetClusterStatusRequest { Model = "nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task ReflectionListsTheInferenceService()
    {
        var reflection = new ServerReflection.ServerReflectionClient(fixture.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("orleansinfer.v1.Inference", services);
    }

    [Fact]
    public async Task HealthServesUntilTheGatewayDrains()
    {
        // Its own server: draining cannot be undone.
        await using var server = await GatewayServer.StartAsync(o => o.ApiKeys = ["k"]);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var health = new Health.HealthClient(channel);
        // Probes send no key: the health service is open.
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        server.Services.GetRequiredService<GatewayState>().BeginDraining();
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }
}
