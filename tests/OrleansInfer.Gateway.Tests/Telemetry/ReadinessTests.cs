using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>A cluster of several models whose workers a test sets; it generates nothing.</summary>
public sealed class ModelsCluster : IInferenceCluster
{
    public volatile IReadOnlyList<string> Models = [];

    public volatile IReadOnlyList<WorkerLoad> Workers = [];

    /// <summary>When set, asking for the models waits for this (a cluster that does not answer).</summary>
    public TaskCompletionSource? Hang { get; set; }

    public static WorkerLoad Worker(string model, bool healthy = true, bool draining = false) =>
        new() { WorkerKey = $"silo/{model}/0", ModelId = model, Healthy = healthy, Draining = draining };

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
    {
        if (Hang is { } hang) await hang.Task.WaitAsync(cancellationToken);
        return Models;
    }

    public Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken) =>
        throw new GatewayException(GatewayErrorKind.Unavailable, "not in this test");

    public IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, CancellationToken cancellationToken) =>
        throw new GatewayException(GatewayErrorKind.Unavailable, "not in this test");

    public Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<WorkerLoad>>([.. Workers.Where(w => model is null || w.ModelId == model)]);
}

/// <summary>/ready and gRPC health: ready only while every served model has a healthy worker that is not draining.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task ReadyOnlyWhenEveryServedModelHasAReadyWorker()
    {
        var cluster = new ModelsCluster { Models = ["a", "b"], Workers = [ModelsCluster.Worker("a")] };
        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        await using var app = GatewayApp.Build(options, cluster);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{options.Port}") };
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{options.GrpcPort}");
        var health = new Health.HealthClient(channel);

        async Task AssertReadyAsync(string? reason)
        {
            using var response = await http.GetAsync("/ready");
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var grpc = (await health.CheckAsync(new HealthCheckRequest())).Status;
            if (reason is null)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("ready", body.GetProperty("status").GetString());
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, grpc);
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal(reason, body.GetProperty("reason").GetString());
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, grpc);
            }
        }

        await AssertReadyAsync("no ready worker for model 'b'");
        cluster.Workers = [ModelsCluster.Worker("a"), ModelsCluster.Worker("b", draining: true), ModelsCluster.Worker("b", healthy: false)];
        await AssertReadyAsync("no ready worker for model 'b'");
        cluster.Workers = [ModelsCluster.Worker("a", healthy: false), ModelsCluster.Worker("b", draining: true)];
        await AssertReadyAsync("no ready worker for model 'a', 'b'");
        cluster.Workers = [ModelsCluster.Worker("a"), ModelsCluster.Worker("b", draining: true), ModelsCluster.Worker("b")];
        await AssertReadyAsync(null);
        cluster.Models = [];
        await AssertReadyAsync("the cluster serves no model yet");
        cluster.Models = ["a", "b"];
        await AssertReadyAsync(null);
        app.Services.GetRequiredService<GatewayState>().BeginDraining();
        await AssertReadyAsync("draining");
    }

    [Fact]
    public async Task AClusterThatDoesNotAnswerIsNotReadyAfterTheTimeout()
    {
        var cluster = new ModelsCluster { Models = ["a"], Workers = [ModelsCluster.Worker("a")], Hang = new() };
        var readiness = new GatewayReadiness(cluster, new GatewayState(), TimeSpan.FromMilliseconds(50));
        Assert.Equal("the cluster did not answer within 0.05 s", await readiness.NotReadyReasonAsync(CancellationToken.None));
        cluster.Hang = null;
        Assert.Null(await readiness.NotReadyReasonAsync(CancellationToken.None));
    }
}
