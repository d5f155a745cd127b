using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Runtime;

namespace OrleansInfer.Silo.Http;

/// <summary>
/// The silo's small HTTP port (<see cref="SiloOptions.HttpPort"/> on <see cref="SiloOptions.HttpHost"/>): <c>/health</c>,
/// <c>/ready</c>, <c>/status</c> (JSON of the local workers) and <c>/metrics</c> (Prometheus text from the silo host's
/// meter provider; absent with <see cref="SiloOptions.ExportTelemetry"/> off). A Kestrel of its own beside the silo
/// host, so it can listen before the model loads (<see cref="EnsureStartedAsync"/>, which the CLI calls before it
/// builds the engines) and until the host has stopped, Orleans' drain included (<see cref="SiloHttpHostedService"/>).
/// </summary>
public sealed class SiloHttpEndpoint : IAsyncDisposable, IDisposable
{
    private readonly SiloOptions _options;
    private readonly SiloReadiness _readiness;
    private readonly IServiceProvider _silo;
    private readonly MeterProvider? _meters;
    private readonly Lazy<string> _siloAddress;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private WebApplication? _app;
    private bool _stopped;

    /// <param name="options">The silo's settings (port, host, whether it exports telemetry).</param>
    /// <param name="readiness">What the probes report.</param>
    /// <param name="silo">The silo host's services: its meter provider, logger factory and silo address.</param>
    public SiloHttpEndpoint(SiloOptions options, SiloReadiness readiness, IServiceProvider silo)
    {
        _options = options;
        _readiness = readiness;
        _silo = silo;
        // Resolved now, before this endpoint, so the host disposes the provider after the endpoint stopped serving it.
        _meters = options.HttpPort is null ? null : silo.GetService<MeterProvider>();
        _siloAddress = new(() => silo.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString() ?? "unknown");
    }

    /// <summary>http://HOST:PORT once listening; null when the silo has no HTTP port or it has not started.</summary>
    public Uri? Address => _app is null || _options.HttpPort is not { } port ? null : new Uri($"http://{(_options.HttpHost.Contains(':') ? $"[{_options.HttpHost}]" : _options.HttpHost)}:{port}");

    /// <summary>Whether /metrics is served (the silo host exports telemetry and has a Prometheus exporter).</summary>
    public bool ServesMetrics => _meters is not null;

    /// <summary>Starts listening unless already listening (or there is no HTTP port). Throws IOException when the port is taken.</summary>
    public async Task EnsureStartedAsync(CancellationToken cancellationToken = default)
    {
        if (_options.HttpPort is not { } port) return;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_app is not null || _stopped) return;
            var app = Build(port);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _app = app;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops listening (after the silo host stopped); a later <see cref="EnsureStartedAsync"/> does not start it again.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _stopped = true;
            if (_app is null) return;
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private WebApplication Build(int port)
    {
        // The empty builder reads no ASPNETCORE_* variables or appsettings (container images set ASPNETCORE_HTTP_PORTS).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(SiloHttpEndpoint).Assembly.GetName().Name });
        builder.Services.AddSingleton(_silo.GetRequiredService<ILoggerFactory>());
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            if (_options.HttpHost == "localhost") kestrel.ListenLocalhost(port);
            else kestrel.Listen(IPAddress.Parse(_options.HttpHost), port);
        });
        var app = builder.Build();
        app.MapGet("/health", context => WriteAsync(context, SiloProbes.Health(_readiness, _siloAddress.Value)));
        app.MapGet("/ready", context => WriteAsync(context, SiloProbes.Ready(_readiness, _siloAddress.Value)));
        app.MapGet("/status", context => context.Response.WriteAsJsonAsync(SiloProbes.Status(_readiness, _siloAddress.Value), SiloJson.Default.SiloStatusReport));
        if (_meters is not null) app.MapPrometheusScrapingEndpoint("/metrics", _meters, configureBranchedPipeline: null, optionsName: null);
        return app;
    }

    private static Task WriteAsync(HttpContext context, ProbeResult result)
    {
        context.Response.StatusCode = result.StatusCode;
        return context.Response.WriteAsJsonAsync(result.Body, SiloJson.Default.ProbeBody);
    }

    /// <summary>Registers the endpoint and the hosted service that starts it first and stops it last.</summary>
    internal static void Add(IServiceCollection services, SiloOptions options)
    {
        services.AddSingleton(sp => new SiloHttpEndpoint(options, sp.GetRequiredService<SiloReadiness>(), sp));
        services.AddHostedService(sp => new SiloHttpHostedService(sp.GetRequiredService<SiloHttpEndpoint>(), sp.GetRequiredService<SiloReadiness>()));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app) await app.DisposeAsync().ConfigureAwait(false);
        _app = null;
        _gate.Dispose();
    }

    /// <summary>The host disposes synchronously when a start failed before it ran (a backend that cannot start).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>
/// Starts the endpoint before every other hosted service (a no-op when the CLI already started it), turns the probes
/// to draining as soon as the host begins to stop, and stops the endpoint only after every hosted service, Orleans'
/// silo with its drain included, has stopped.
/// </summary>
internal sealed class SiloHttpHostedService(SiloHttpEndpoint endpoint, SiloReadiness readiness) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => endpoint.EnsureStartedAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.BeginDraining();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => endpoint.StopAsync(cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProbeBody))]
[JsonSerializable(typeof(SiloStatusReport))]
internal sealed partial class SiloJson : JsonSerializerContext;
