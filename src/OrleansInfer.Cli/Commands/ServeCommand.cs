using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Silo;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `serve`: one process with a silo (localhost clustering on private loopback ports), its workers, the router and the
/// gateway (OpenAI HTTP API and gRPC). Prints a line containing "ready" with both URLs; SIGTERM or Ctrl+C drains and exits.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create(TextWriter output)
    {
        var engine = new SiloEngineSettings("--served-model-name", "Name clients use for the model (default: the file name)");
        var gateway = new GatewaySettings();
        var command = new Command(Name, "Serve a model over the OpenAI-compatible HTTP API and gRPC (silo and gateway in one process)");
        engine.AddTo(command);
        gateway.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var configuration = GatewaySettings.Configuration();
            var gatewayOptions = gateway.Read(r, configuration);
            SiloOptions siloOptions;
            try
            {
                siloOptions = OrleansInferSilo.LoadOptions(configuration, o =>
                {
                    engine.Apply(r, o);
                    // The silo's own ports stay private: loopback only, chosen free, so only the gateway faces clients.
                    o.Clustering = ClusteringKind.Localhost;
                    // Never the gateway's own ports: the gateway binds them before the silo starts.
                    o.SiloPort = o.PrimarySiloPort = FreePorts.Next(gatewayOptions.Port, gatewayOptions.GrpcPort);
                    o.GatewayPort = FreePorts.Next(gatewayOptions.Port, gatewayOptions.GrpcPort);
                    // The gateway's port serves the probes and /metrics, and its telemetry exports the whole process.
                    o.HttpPort = null;
                    o.ExportTelemetry = false;
                });
            }
            catch (SiloConfigurationException e)
            {
                throw new CliException($"invalid configuration: {e.Message}");
            }

            using var silo = OrleansInferSilo.Build(siloOptions);
            var grains = silo.Services.GetRequiredService<IClusterClient>();
            // The gateway listens before the model loads, as llama.cpp's server does: /ready says not ready and
            // requests get 503 with Retry-After until the worker is ready.
            var cluster = new StartingCluster(new ClusterInference(grains, new ClusterStreamClient(grains), gatewayOptions));
            await using var gatewayApp = await GatewayRunner.StartAsync(grains, cluster, gatewayOptions, ct);
            SiloEngineSettings.LoadEngines(silo);
            await silo.StartAsync(ct);
            try
            {
                await silo.Services.GetRequiredService<SiloReady>().Workers.WaitAsync(TimeSpan.FromMinutes(5), ct);
                cluster.MarkStarted();
                await GatewayRunner.ServeAsync(gatewayApp, gatewayOptions, $"serve (model '{siloOptions.ResolvedModelId}')", output);
            }
            finally
            {
                await silo.StopAsync(CancellationToken.None);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
