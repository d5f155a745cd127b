using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Dashboard;
using Orleans.TestingHost;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Engine.Core;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.StatusPage;
using OrleansInfer.Silo;
using OrleansInfer.Testing;

namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>
/// Two in-process silos, each with one CPU worker of stories260K and the Orleans Dashboard; a gateway over the cluster
/// client (as `gateway` runs, the dashboard from the client's AddDashboard) and one with an API key; and Chromium.
/// </summary>
public sealed class BrowserCluster : IAsyncLifetime
{
    public const string ModelId = "stories260K";
    public const string ApiKey = "status-page-key";

    private readonly List<WebApplication> _gateways = [];

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>A gateway without keys.</summary>
    public WebApplication Open { get; private set; } = null!;

    /// <summary>A gateway that requires <see cref="ApiKey"/>.</summary>
    public WebApplication Keyed { get; private set; } = null!;

    public Chromium Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Fail on a missing browser before the cluster takes its time to start.
        Chromium = await Chromium.LaunchAsync();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSiloHost((silo, host) => OrleansInferSilo.AddServices(host.Services, Options()));
        builder.ConfigureSilo((silo, siloBuilder) =>
        {
            OrleansInferSilo.ConfigureSilo(siloBuilder, Options(), configureClustering: false);
            // The silo setup may add the dashboard itself; adding it twice would register its grain service twice.
            if (!HasDashboard(siloBuilder.Services)) siloBuilder.AddDashboard();
        });
        builder.ConfigureClient(client => client.AddDashboard());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        if (!await Cluster.Client.GetGrain<IRouterGrain>(ModelId).WaitForWorkers(2, TimeSpan.FromSeconds(60)))
            throw new TimeoutException("expected 2 workers to report to the router within 60 s");

        Open = await StartGatewayAsync(Cluster.Client, _ => { });
        Keyed = await StartGatewayAsync(Cluster.Client, o => o.ApiKeys = [ApiKey]);
    }

    /// <summary>A gateway over <paramref name="client"/>, its dashboard served from the client's container.</summary>
    public async Task<WebApplication> StartGatewayAsync(IClusterClient client, Action<GatewayOptions> configure)
    {
        var options = new GatewayOptions { Port = FreePorts.Next(), GrpcPort = FreePorts.Next() };
        configure(options);
        var cluster = new ClusterInference(client, new ClusterStreamClient(client), options);
        var app = GatewayApp.Build(options, cluster, b => b.AddOrleansDashboardFrom(client.ServiceProvider));
        await app.StartAsync();
        _gateways.Add(app);
        return app;
    }

    public static Uri AddressOf(WebApplication gateway) => new($"http://127.0.0.1:{gateway.Services.GetRequiredService<GatewayOptions>().Port}");

    public IReadOnlyList<InProcessSiloHandle> Silos => [.. Cluster.Silos.OrderBy(s => s.Name, StringComparer.Ordinal)];

    public static string WorkerKeyOf(InProcessSiloHandle silo) => WorkerKeys.Format(silo.SiloAddress.ToParsableString(), 0, ModelId);

    public static LlmEngine EngineOf(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<WorkerEngines>().Get(0);

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
        if (Cluster is not null) await Cluster.DisposeAsync();
        if (Chromium is not null) await Chromium.DisposeAsync();
    }

    private static SiloOptions Options() => new()
    {
        Model = SharedData.Stories260KGguf,
        ModelId = ModelId,
        Threads = 1,
        KvBlocks = 64,
        DrainTimeout = TimeSpan.FromSeconds(5),
        PlacementWait = TimeSpan.FromSeconds(5),
    };

    private static bool HasDashboard(IServiceCollection services) =>
        services.Any(d => d.ServiceType.Assembly == typeof(DashboardOptions).Assembly);
}

[CollectionDefinition(nameof(BrowserClusterCollection))]
public sealed class BrowserClusterCollection : ICollectionFixture<BrowserCluster>;
