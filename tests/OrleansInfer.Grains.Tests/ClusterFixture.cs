using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Silo;
using OrleansInfer.Testing;

namespace OrleansInfer.Grains.Tests;

/// <summary>
/// Three in-process silos serving stories260K, each with one CPU worker of a different KV capacity:
/// Silo_0 64 blocks, Silo_1 32, Silo_2 16 (blocks of 16 tokens). Steps are slowed by a few
/// milliseconds so streams are still flowing when a test moves them or kills a silo.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string ModelId = "stories260K";

    public static readonly IReadOnlyDictionary<string, int> BlocksBySilo = new Dictionary<string, int>
    {
        ["Silo_0"] = 64,
        ["Silo_1"] = 32,
        ["Silo_2"] = 16,
    };

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>Resilient streams through the fixture's cluster.</summary>
    public ClusterStreamClient Streams { get; private set; } = null!;

    public static SiloOptions OptionsFor(string siloName, int stepDelayMs, TimeSpan? drainTimeout = null, TimeSpan? placementWait = null) => new()
    {
        Model = SharedData.Stories260KGguf,
        ModelId = ModelId,
        Threads = 1,
        KvBlocks = BlocksBySilo[siloName],
        StepDelayMs = stepDelayMs,
        DrainTimeout = drainTimeout ?? TimeSpan.FromSeconds(5),
        PlacementWait = placementWait ?? TimeSpan.FromSeconds(5),
    };

    public static InProcessTestCluster Build(int stepDelayMs, TimeSpan? drainTimeout = null, TimeSpan? placementWait = null, int silos = 3,
        Func<string, RunnerFactory?>? runners = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSiloHost((silo, host) => OrleansInferSilo.AddServices(host.Services, OptionsFor(silo.SiloName, stepDelayMs, drainTimeout, placementWait), runners?.Invoke(silo.SiloName)));
        builder.ConfigureSilo((silo, siloBuilder) =>
        {
            OrleansInferSilo.ConfigureSilo(siloBuilder, OptionsFor(silo.SiloName, stepDelayMs, drainTimeout, placementWait), configureClustering: false);
            // One trace from the client through router and worker grains to the engine (the real hosts do the same).
            siloBuilder.AddActivityPropagation();
        });
        builder.ConfigureClient(client => client.AddActivityPropagation());
        return builder.Build();
    }

    public async Task InitializeAsync()
    {
        Cluster = Build(stepDelayMs: 3);
        await Cluster.DeployAsync();
        Streams = new ClusterStreamClient(Cluster.Client);
        var ready = await Cluster.Client.GetGrain<IRouterGrain>(ModelId).WaitForWorkers(3, TimeSpan.FromSeconds(30));
        if (!ready) throw new TimeoutException("expected 3 workers to report to the router within 30 s");
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>The engines of the silo named <paramref name="siloName"/> (in-process: reachable directly).</summary>
    public static WorkerEngines EnginesOf(InProcessTestCluster cluster, string siloName) =>
        cluster.Silos.Single(s => s.Name == siloName).ServiceProvider.GetRequiredService<WorkerEngines>();

    public static string WorkerKeyOf(InProcessTestCluster cluster, string siloName) =>
        WorkerKeys.Format(cluster.Silos.Single(s => s.Name == siloName).SiloAddress.ToParsableString(), 0, ModelId);
}

[CollectionDefinition(nameof(ClusterCollection))]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;
