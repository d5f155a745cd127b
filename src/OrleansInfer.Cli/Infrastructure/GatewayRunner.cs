using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Client;
using OrleansInfer.Gateway;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.StatusPage;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// Runs the gateway over a cluster until SIGTERM or Ctrl+C: listens, prints the "ready" line with both URLs once the
/// cluster serves, then drains.
/// </summary>
internal static class GatewayRunner
{
    public static async Task RunAsync(IGrainFactory grains, ClusterStreamClient streams, GatewayOptions options, string what, TextWriter output, CancellationToken ct)
    {
        await using var app = await StartAsync(grains, new ClusterInference(grains, streams, options), options, ct);
        await ServeAsync(app, options, what, output);
    }

    /// <summary>Builds and starts the gateway over <paramref name="cluster"/>: it listens (and answers its probes) from here on.</summary>
    public static async Task<WebApplication> StartAsync(IGrainFactory grains, IInferenceCluster cluster, GatewayOptions options, CancellationToken ct)
    {
        // The Orleans Dashboard's services live in the cluster client's (or, in serve, the silo's) container.
        var app = GatewayApp.Build(options, cluster, b =>
        {
            if (grains is IClusterClient client) b.AddOrleansDashboardFrom(client.ServiceProvider);
        });
        try
        {
            await app.StartAsync(ct);
            return app;
        }
        catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await app.DisposeAsync();
            throw new CliException($"cannot listen on {options.Host}:{options.Port} / {options.GrpcPort}: {e.Message.Split('\n')[0]}", ExitCodes.Failure);
        }
    }

    /// <summary>Prints the "ready" line and waits for SIGTERM / Ctrl+C: the host stops listening, lets the requests in flight finish, then returns.</summary>
    public static async Task ServeAsync(WebApplication app, GatewayOptions options, string what, TextWriter output)
    {
        output.WriteLine($"orleans-infer {what} ready: OpenAI API http://{options.Host}:{options.Port}/v1, gRPC http://{options.Host}:{options.GrpcPort}");
        output.Flush();
        await app.WaitForShutdownAsync(CancellationToken.None);
    }
}
