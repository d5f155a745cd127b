using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansInfer.Client;

/// <summary>
/// Where a cluster is: "localhost" (gateway 30000), "localhost:PORT", or "redis://HOST:PORT[/CLUSTER_ID]" (the Redis
/// membership table the silos use; the cluster id defaults to "orleans-infer").
/// </summary>
public sealed record ClusterEndpoint(string? Redis, int LocalGatewayPort, string ClusterId = "orleans-infer", string ServiceId = "orleans-infer")
{
    public static ClusterEndpoint Parse(string text, string clusterId = "orleans-infer", string serviceId = "orleans-infer")
    {
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text["redis://".Length..].TrimEnd('/');
            var slash = rest.IndexOf('/');
            var hostPort = slash < 0 ? rest : rest[..slash];
            if (slash >= 0) clusterId = rest[(slash + 1)..];
            if (hostPort.Length == 0 || clusterId.Length == 0) throw new FormatException($"'{text}' is not redis://HOST:PORT[/CLUSTER_ID]");
            return new ClusterEndpoint(hostPort, 0, clusterId, serviceId);
        }
        if (text == "localhost") return new ClusterEndpoint(null, 30000, clusterId, serviceId);
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) && int.TryParse(text["localhost:".Length..], out var port) && port is > 0 and < 65536)
            return new ClusterEndpoint(null, port, clusterId, serviceId);
        throw new FormatException($"'{text}' is not a cluster address (localhost, localhost:PORT or redis://HOST:PORT)");
    }

    /// <summary>A started Orleans client host connected to the cluster.</summary>
    public async Task<IHost> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            if (Redis is not null) client.UseRedisClustering(Redis);
            else client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, LocalGatewayPort));
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
}
