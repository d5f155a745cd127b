using System.CommandLine;
using Microsoft.Extensions.Configuration;
using OrleansInfer.Cli.Infrastructure;
using Orleans.Dashboard;
using OrleansInfer.Client;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `gateway`: the HTTP and gRPC front door alone, as an Orleans client of a running cluster, so gateways and GPU silos
/// scale apart. Prints a line containing "ready" with both URLs; SIGTERM or Ctrl+C drains and exits.
/// </summary>
internal static class GatewayCommand
{
    public const string Name = "gateway";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var cluster = new Option<string>("--cluster") { Description = "localhost[:PORT[,PORT...]], redis://HOST:PORT[/CLUSTER_ID], or kubernetes (the cluster's Redis from --redis or OrleansInfer:Redis)", Required = true };
        var redis = new Option<string?>("--redis") { Description = "With --cluster kubernetes: the membership Redis HOST:PORT" };
        var gateway = new GatewaySettings();
        var command = new Command(Name, "Run a gateway (OpenAI HTTP API and gRPC) in front of a running cluster");
        command.Options.Add(cluster);
        command.Options.Add(redis);
        gateway.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var configuration = GatewaySettings.Configuration();
            var options = gateway.Read(r, configuration);
            var address = r.GetValue(cluster)!;
            if (address == "kubernetes")
            {
                var redisAddress = r.GetValue(redis) ?? configuration["OrleansInfer:Redis"]
                    ?? throw new CliException("--cluster kubernetes needs the membership Redis: --redis HOST:PORT or OrleansInfer__Redis");
                address = $"redis://{redisAddress}";
            }
            // The Orleans Dashboard's client services, so this process can host its pages.
            await using var connection = await ClusterConnection.OpenAsync(address, null, error, ct, client => client.AddDashboard());
            await GatewayRunner.RunAsync(connection.Grains, connection.Streams, options, $"gateway (cluster {address})", output, ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
