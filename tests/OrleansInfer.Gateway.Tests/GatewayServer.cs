using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Client;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Silo;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Tests;

/// <summary>
/// A real one-silo cluster serving stories260K (localhost clustering, free ports) and a real Kestrel gateway in front
/// of it on loopback: what `orleans-infer serve` runs, in the test process.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly IHost _silo;
    private readonly WebApplication _app;

    private GatewayServer(IHost silo, WebApplication app, GatewayOptions options, WorkerEngines engines, ClusterInference cluster, string modelId)
    {
        _silo = silo;
        _app = app;
        Options = options;
        Engines = engines;
        Cluster = cluster;
        ModelId = modelId;
    }

    public GatewayOptions Options { get; }

    /// <summary>The silo's engines (KV statistics: free blocks must return to the total after every test).</summary>
    public WorkerEngines Engines { get; }

    public ClusterInference Cluster { get; }

    /// <summary>The gateway's services (e.g. its GatewayState, to begin draining).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The served model's id: stories260K unless the silo options name it.</summary>
    public string ModelId { get; }

    /// <summary>http://127.0.0.1:PORT (the OpenAI API is under /v1).</summary>
    public Uri HttpAddress => new($"http://127.0.0.1:{Options.Port}");

    /// <summary>http://127.0.0.1:GRPC_PORT (HTTP/2 without TLS).</summary>
    public Uri GrpcAddress => new($"http://127.0.0.1:{Options.GrpcPort}");

    /// <summary>
    /// Starts the silo (<paramref name="configureSilo"/> adjusts its options) and the gateway (<paramref name="configureGateway"/>;
    /// <paramref name="environment"/> stands in for environment variables such as OTEL_*).
    /// </summary>
    public static async Task<GatewayServer> StartAsync(Action<GatewayOptions>? configureGateway = null, Action<SiloOptions>? configureSilo = null,
        Microsoft.Extensions.Configuration.IConfiguration? environment = null)
    {
        var siloPort = FreePorts.Next();
        var siloOptions = new SiloOptions
        {
            Model = SharedData.Stories260KGguf,
            Backend = "cpu",
            CpuWorkers = 1,
            Threads = 2,
            KvBlocks = 256,
            SiloPort = siloPort,
            PrimarySiloPort = siloPort,
            GatewayPort = FreePorts.Next(),
        };
        configureSilo?.Invoke(siloOptions);
        var silo = OrleansInferSilo.Build(siloOptions.Validate());
        await silo.StartAsync();
        await silo.Services.GetRequiredService<SiloReady>().Workers.WaitAsync(TimeSpan.FromMinutes(2));
        var grains = silo.Services.GetRequiredService<IClusterClient>();

        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        configureGateway?.Invoke(options);
        var cluster = new ClusterInference(grains, new ClusterStreamClient(grains), options);
        var app = GatewayApp.Build(options, cluster, environment: environment);
        await app.StartAsync();
        return new GatewayServer(silo, app, options, silo.Services.GetRequiredService<WorkerEngines>(), cluster, siloOptions.ResolvedModelId);
    }

    /// <summary>Holds the (only) worker's engine after its next step until disposed (see <see cref="EngineHold"/>).</summary>
    public EngineHold HoldEngine() => new(Engines.Get(Engines.Devices[0]));

    /// <summary>Waits until every worker's KV blocks are all free (the engines publish after the step that freed them).</summary>
    public async Task AssertAllBlocksFreeAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        foreach (var device in Engines.Devices)
        {
            var engine = Engines.Get(device);
            Assert.True(await engine.WhenIdleAsync(cts.Token), $"expected worker {device} to become idle within the timeout");
            Assert.True(engine.KvCache.FreeBlocks == engine.KvCache.TotalBlocks, $"expected all {engine.KvCache.TotalBlocks} KV blocks of worker {device} free, {engine.KvCache.FreeBlocks} are");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _silo.StopAsync();
        _silo.Dispose();
    }
}
