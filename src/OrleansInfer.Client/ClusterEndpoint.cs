using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansInfer.Client;

/// <summary>
/// Where a cluster is: "localhost" (gateway 30000), "localhost:PORT[,PORT...]" (several local gateways), or
/// "redis://HOST:PORT[/CLUSTER_ID]" (the Redis membership table the silos use, which lists every live gateway; the
/// cluster id defaults to "orleans-infer").
/// </summary>
public sealed record ClusterEndpoint(string? Redis, IReadOnlyList<int> LocalGatewayPorts, string ClusterId = "orleans-infer", string ServiceId = "orleans-infer")
{
    /// <summary>How often the client re-reads the gateway list (a dead silo's gateway leaves it, a new one joins).</summary>
    public static readonly TimeSpan GatewayListRefresh = TimeSpan.FromSeconds(2);

    public static ClusterEndpoint Parse(string text, string clusterId = "orleans-infer", string serviceId = "orleans-infer")
    {
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text["redis://".Length..].TrimEnd('/');
            var slash = rest.IndexOf('/');
            var hostPort = slash < 0 ? rest : rest[..slash];
            if (slash >= 0) clusterId = rest[(slash + 1)..];
            if (hostPort.Length == 0 || clusterId.Length == 0) throw new FormatException($"'{text}' is not redis://HOST:PORT[/CLUSTER_ID]");
            return new ClusterEndpoint(hostPort, [], clusterId, serviceId);
        }
        if (text == "localhost") return new ClusterEndpoint(null, [30000], clusterId, serviceId);
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            var ports = text["localhost:".Length..].Split(',');
            var parsed = ports.Select(p => int.TryParse(p, out var port) && port is > 0 and < 65536 ? port : -1).ToArray();
            if (parsed.All(p => p > 0)) return new ClusterEndpoint(null, parsed, clusterId, serviceId);
        }
        throw new FormatException($"'{text}' is not a cluster address (localhost, localhost:PORT[,PORT...] or redis://HOST:PORT[/CLUSTER_ID])");
    }

    /// <summary>
    /// A started Orleans client host connected to the cluster; its <see cref="GatewayWatch"/> is a service of the host.
    /// The client propagates the caller's activity (trace context) into grain calls.
    /// </summary>
    public Task<IHost> ConnectAsync(CancellationToken cancellationToken = default) => ConnectAsync(null, cancellationToken);

    /// <summary>As <see cref="ConnectAsync(CancellationToken)"/>, with more client configuration.</summary>
    /// <param name="configure">Applied last (the gateway adds the Orleans Dashboard's services); null adds nothing.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    public async Task<IHost> ConnectAsync(Action<IClientBuilder>? configure, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var watch = new GatewayWatch();
        builder.Services.AddSingleton(watch);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = GatewayListRefresh);
            client.AddActivityPropagation();
            client.AddGatewayCountChangedHandler((_, e) => watch.OnGatewayCountChanged(e.NumberOfConnectedGateways, e.PreviousNumberOfConnectedGateways));
            if (Redis is not null) client.UseRedisClustering(Redis);
            else client.UseStaticClustering(LocalGatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray());
            configure?.Invoke(client);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    public static IClusterClient Client(IHost host) => host.Services.GetRequiredService<IClusterClient>();

    /// <summary>A stream client over the connected host, watching its gateways.</summary>
    public static ClusterStreamClient Streams(IHost host, ClusterStreamOptions? options = null) =>
        new(Client(host), options, host.Services.GetService<GatewayWatch>());
}
