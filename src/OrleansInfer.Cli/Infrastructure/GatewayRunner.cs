using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Client;
using OrleansInfer.Gateway;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.StatusPage;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>Runs the gateway over a cluster client until SIGTERM or Ctrl+C: prints the "ready" line with both URLs, then drains.</summary>
internal static class GatewayRunner
{
    public static async Task RunAsync(IGrainFactory grains, ClusterStreamClient streams, GatewayOptions options, string what, TextWriter output, CancellationToken ct)
    {
        var cluster = new ClusterInference(grains, streams, options);
        // The Orleans Dashboard's services live in the cluster client's (or, in serve, the silo's) container.
        await using var app = GatewayApp.Build(options, cluster, b =>
        {
            if (grains is IClusterClient client) b.AddOrleansDashboardFrom(client.ServiceProvider);
        });
        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"cannot listen on {options.Host}:{options.Port} / {options.GrpcPort}: {e.Message.Split('\n')[0]}", ExitCodes.Failure);
        }
        output.WriteLine($"orleans-infer {what} ready: OpenAI API http://{options.Host}:{options.Port}/v1, gRPC http://{options.Host}:{options.GrpcPort}");
        output.Flush();
        // SIGTERM / Ctrl+C: the host stops listening, lets the requests in flight finish, then returns.
        await app.WaitForShutdownAsync(CancellationToken.None);
    }
}
