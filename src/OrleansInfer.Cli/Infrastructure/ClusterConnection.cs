using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Client;
using OrleansInfer.Silo;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// What "--cluster" names, opened: a one-silo localhost cluster started in this process ("in-process", with the
/// given silo options; its engines are reachable for statistics), or a running cluster reached as a client.
/// </summary>
internal sealed class ClusterConnection(IHost host, IGrainFactory grains, ClusterStreamClient streams, WorkerEngines? engines) : IAsyncDisposable
{
    public const string InProcess = "in-process";

    public IGrainFactory Grains { get; } = grains;

    /// <summary>Resilient streams through this cluster (watching the client's gateways when it has any).</summary>
    public ClusterStreamClient Streams { get; } = streams;

    /// <summary>The in-process silo's engines; null for a remote cluster.</summary>
    public WorkerEngines? Engines { get; } = engines;

    /// <summary>The services of the client host (or of the in-process silo): the Orleans Dashboard's, for a gateway to host it.</summary>
    public IServiceProvider Services => host.Services;

    /// <param name="cluster">"in-process" or a cluster address (<see cref="ClusterEndpoint.Parse"/>).</param>
    /// <param name="inProcess">The in-process silo's options.</param>
    /// <param name="error">Where the in-process start is announced.</param>
    /// <param name="ct">Cancels the start or the connection.</param>
    /// <param name="configureClient">More configuration of a remote cluster's client (the gateway adds the dashboard's services); the in-process silo has them.</param>
    public static async Task<ClusterConnection> OpenAsync(string cluster, SiloOptions? inProcess, TextWriter error, CancellationToken ct, Action<IClientBuilder>? configureClient = null)
    {
        if (cluster == InProcess)
        {
            if (inProcess is null) throw new CliException("--cluster in-process needs --model (the model file its silo serves)");
            error.WriteLine($"starting a one-silo cluster in this process (localhost clustering, silo port {inProcess.SiloPort})");
            var silo = OrleansInferSilo.Build(inProcess);
            await silo.StartAsync(ct);
            await silo.Services.GetRequiredService<SiloReady>().Workers.WaitAsync(TimeSpan.FromMinutes(5), ct);
            var grains = silo.Services.GetRequiredService<IClusterClient>();
            return new ClusterConnection(silo, grains, new ClusterStreamClient(grains), silo.Services.GetRequiredService<WorkerEngines>());
        }

        ClusterEndpoint endpoint;
        try
        {
            endpoint = ClusterEndpoint.Parse(cluster);
        }
        catch (FormatException e)
        {
            throw new CliException($"invalid --cluster: {e.Message}");
        }
        try
        {
            var client = await endpoint.ConnectAsync(configureClient, ct);
            return new ClusterConnection(client, ClusterEndpoint.Client(client), ClusterEndpoint.Streams(client), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"cannot reach the cluster at {cluster}: {e.Message.Split('\n')[0]}", ExitCodes.Failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }
}
