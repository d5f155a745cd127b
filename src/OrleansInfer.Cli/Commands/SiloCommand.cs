using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Silo;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `silo`: runs one silo of the cluster serving a model. Settings come from appsettings.json and OrleansInfer__*
/// environment variables, then the flags given; a bad setting stops the start with a message naming it. Prints a
/// line containing "ready" once its workers accept work; SIGTERM or Ctrl+C drains it. `--backend ilgpu` with a CUDA
/// driver that fails to initialise exits 1 with one line naming the driver's error. `--http-port` opens the probes and
/// /metrics before the model loads (/ready says loading until the workers are registered, draining during the drain).
/// </summary>
internal static class SiloCommand
{
    public const string Name = "silo";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var engine = new SiloEngineSettings();
        var clustering = new Option<string?>("--clustering") { Description = "localhost (default), redis or kubernetes" };
        clustering.AcceptOnlyFromAmong("localhost", "redis", "kubernetes");
        var redis = new Option<string?>("--redis") { Description = "Redis HOST:PORT (redis and kubernetes clustering)" };
        var siloPort = new Option<int?>("--silo-port") { Description = "Silo-to-silo port (default 11111)" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "Client gateway port (default 30000)" };
        var primary = new Option<int?>("--primary-silo-port") { Description = "localhost clustering: the primary silo's port (default 11111)" };
        var clusterId = new Option<string?>("--cluster-id") { Description = "Cluster id (default orleans-infer)" };
        var drain = new Option<double?>("--drain-timeout") { Description = "Seconds a stopping silo lets running requests finish before moving them" };
        var stepDelay = new Option<int?>("--step-delay-ms") { Description = "Slow every engine step by this many ms (failover drills, demos)" };
        var policy = new Option<string?>("--routing-policy") { Description = "Placement policy of the routers: kv-aware (default), least-loaded, round-robin, prefix-aware" };
        var httpPort = new Option<int?>("--http-port") { Description = "HTTP port for /health, /ready, /metrics and /status (default: none)" };
        var httpHost = new Option<string?>("--http-host") { Description = "Address the HTTP port binds (default 127.0.0.1; 0.0.0.0 in a pod)" };
        var command = new Command(Name, "Run a silo of the OrleansInfer cluster");
        engine.AddTo(command);
        foreach (var o in new Option[] { clustering, redis, siloPort, gatewayPort, primary, clusterId, drain, stepDelay, policy, httpPort, httpHost })
            command.Options.Add(o);

        command.SetAction(async (r, ct) =>
        {
            var configuration = GatewaySettings.Configuration();
            SiloOptions options;
            try
            {
                options = OrleansInferSilo.LoadOptions(configuration, o =>
                {
                    engine.Apply(r, o);
                    if (r.GetValue(clustering) is { } c) o.Clustering = Enum.Parse<ClusteringKind>(c, ignoreCase: true);
                    if (r.GetValue(redis) is { } rd) o.Redis = rd;
                    if (r.GetValue(siloPort) is { } sp) o.SiloPort = sp;
                    if (r.GetValue(gatewayPort) is { } gp) o.GatewayPort = gp;
                    if (r.GetValue(primary) is { } pp) o.PrimarySiloPort = pp;
                    if (r.GetValue(clusterId) is { } ci) o.ClusterId = ci;
                    if (r.GetValue(drain) is { } d) o.DrainTimeout = TimeSpan.FromSeconds(d);
                    if (r.GetValue(stepDelay) is { } sd) o.StepDelayMs = sd;
                    if (r.GetValue(policy) is { } rp) o.RoutingPolicy = rp;
                    if (r.GetValue(httpPort) is { } hp) o.HttpPort = hp;
                    if (r.GetValue(httpHost) is { } hh) o.HttpHost = hh;
                });
            }
            catch (SiloConfigurationException e)
            {
                throw new CliException($"invalid configuration: {e.Message}");
            }

            using var host = OrleansInferSilo.Build(options);
            // The probes answer (503 loading) while the model loads.
            await SiloEngineSettings.StartHttpAsync(host, options, ct);
            SiloEngineSettings.LoadEngines(host);
            await host.StartAsync(ct);
            var ready = host.Services.GetService(typeof(SiloReady)) as SiloReady ?? throw new InvalidOperationException("the silo host has no readiness signal");
            var keys = await ready.Workers.WaitAsync(TimeSpan.FromMinutes(5), ct);
            output.WriteLine($"orleans-infer silo ready: model '{options.ResolvedModelId}', {keys.Length} worker(s), silo port {options.SiloPort}, gateway port {options.GatewayPort}, {options.Clustering} clustering{(options.HttpPort is { } p ? $", http port {p}" : "")}");
            foreach (var k in keys) output.WriteLine($"  worker {k}");
            output.Flush();
            await host.WaitForShutdownAsync(CancellationToken.None);
            return ExitCodes.Ok;
        });
        return command;
    }
}
