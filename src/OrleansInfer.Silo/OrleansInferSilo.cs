using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime;
using OrleansInfer.Client.Telemetry;
using OrleansInfer.Engine.Core;
using OrleansInfer.Grains.Placement;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Silo.Http;
using OrleansInfer.Silo.Telemetry;

namespace OrleansInfer.Silo;

/// <summary>Builds a silo host: engines for the local accelerators, the grains, placement and clustering.</summary>
public static class OrleansInferSilo
{
    /// <summary>Reads <see cref="SiloOptions"/> from configuration ("OrleansInfer" section), applies <paramref name="overrides"/>, validates.</summary>
    public static SiloOptions LoadOptions(IConfiguration configuration, Action<SiloOptions>? overrides = null)
    {
        var options = new SiloOptions();
        try
        {
            configuration.GetSection(SiloOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new SiloConfigurationException(SiloOptions.Section, e.Message);
        }
        overrides?.Invoke(options);
        return options.Validate();
    }

    /// <summary>
    /// The host of one silo. Start it, await <see cref="SiloReady.Workers"/>, then wait for shutdown. With an HTTP port,
    /// start its <see cref="SiloHttpEndpoint"/> first to have the probes answer while the model loads.
    /// </summary>
    /// <param name="options">The silo's settings.</param>
    /// <param name="runnerFactory">Builds the runners (tests); null discovers this machine's accelerators.</param>
    /// <param name="logging">Replaces the default logging (warnings to stderr).</param>
    /// <param name="configuration">
    /// Replaces the host's configuration (environment variables and appsettings.json), which is where the OTEL_*
    /// variables are read: tests inject them here without touching the process environment.
    /// </param>
    public static IHost Build(SiloOptions options, RunnerFactory? runnerFactory = null, Action<ILoggingBuilder>? logging = null, IConfiguration? configuration = null)
    {
        options.Validate();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = false, Args = [] });
        if (configuration is not null)
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddConfiguration(configuration);
        }
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else
        {
            // Logs go to stderr: stdout carries the command's own output (the "ready" line, JSON).
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        // Orleans' watchdog warns at start about time before it ran; it says nothing useful here.
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.DrainTimeout + TimeSpan.FromSeconds(15));
        AddServices(builder.Services, options, runnerFactory);
        SiloTelemetry.Add(builder.Services, options, TelemetrySettings.From(builder.Configuration));
        SiloHttpEndpoint.Add(builder.Services, options);
        builder.UseOrleans(silo => ConfigureSilo(silo, options));
        return builder.Build();
    }

    /// <summary>The services a silo of this project needs (also used by in-process test clusters).</summary>
    public static void AddServices(IServiceCollection services, SiloOptions options, RunnerFactory? runnerFactory = null)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(new RouterOptions { Policy = options.RoutingPolicy, PlacementWait = options.PlacementWait });
        services.AddSingleton(sp =>
        {
            var engines = new WorkerEngines(options, runnerFactory, sp.GetService<ILogger<WorkerEngines>>(), sp.GetService<ILogger<LlmEngine>>());
            // The silo's address is known before it starts: the engines' series carry their worker and silo from the first scrape.
            if (sp.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString() is { } silo)
            {
                foreach (var device in engines.Devices)
                {
                    var engine = engines.Get(device);
                    engine.TelemetryLabels = engine.TelemetryLabels with { Worker = Abstractions.WorkerKeys.Format(silo, device, engines.ModelId), Silo = silo };
                }
            }
            // The probes see the engines from now on (they never resolve them: that would load the model on a request thread).
            sp.GetRequiredService<SiloReadiness>().EnginesLoaded(engines);
            return engines;
        });
        services.AddSingleton<IWorkerEngines>(sp => sp.GetRequiredService<WorkerEngines>());
        services.AddSingleton<SiloReady>();
        services.AddSingleton<SiloReadiness>();
        services.AddSingleton<LocalWorkers>();
    }

    /// <summary>
    /// Placement, the worker lifecycle, activity propagation (one trace across grain calls), and for hosted silos
    /// (<paramref name="configureClustering"/>) the Orleans Dashboard's grains and clustering.
    /// </summary>
    public static void ConfigureSilo(ISiloBuilder silo, SiloOptions options, bool configureClustering = true)
    {
        silo.AddActivityPropagation();
        silo.AddPlacementDirector<WorkerPlacementStrategy, WorkerPlacementDirector>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, WorkerLifecycle>();
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        if (!configureClustering) return;

        // The dashboard's grains and profiler; it opens no port of its own: a gateway hosts its pages (/dashboard).
        silo.AddDashboard();

        // A silo the cluster declared dead says so and exits (its supervisor restarts it under a new generation).
        silo.Services.AddSingleton<IFatalErrorHandler, DeclaredDeadHandler>();
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        // Declare a dead silo within seconds (streams it served resume elsewhere only once it is declared dead
        // or its connections drop); Orleans' defaults take tens of seconds.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 2;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        });
        switch (options.Clustering)
        {
            case ClusteringKind.Localhost:
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort), options.ServiceId, options.ClusterId);
                break;
            case ClusteringKind.Redis:
                silo.UseRedisClustering(options.Redis!);
                silo.ConfigureEndpoints(IPAddress.Loopback, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                silo.Services.AddHostedService<MembershipTableGuard>();
                break;
            case ClusteringKind.Kubernetes:
                silo.UseRedisClustering(options.Redis!);
                silo.UseKubernetesHosting();
                silo.Services.AddHostedService<MembershipTableGuard>();
                break;
        }
    }
}
