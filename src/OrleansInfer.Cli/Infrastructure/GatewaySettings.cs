using System.CommandLine;
using Microsoft.Extensions.Configuration;
using OrleansInfer.Gateway;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// The gateway options of `serve` and `gateway`: appsettings.json and OrleansInfer__Gateway__* environment variables,
/// then the flags actually given. An invalid setting is a one-line error naming it (exit 2).
/// </summary>
internal sealed class GatewaySettings
{
    private readonly Option<string?> _host = new("--host") { Description = "Address to listen on (default 127.0.0.1)" };
    private readonly Option<int?> _port = new("--port") { Description = "HTTP port of the OpenAI-compatible API (default 8000)" };
    private readonly Option<int?> _grpcPort = new("--grpc-port") { Description = "HTTP/2 port of the gRPC API (default 50051)" };
    private readonly Option<string[]> _apiKeys = new("--api-key") { Description = "Accepted API key, KEY or KEY:REQUESTS_PER_MINUTE (repeatable); every route but /health and /ready then needs one" };
    private readonly Option<string?> _apiKeyFile = new("--api-key-file") { Description = "File of API keys, one KEY or KEY:REQUESTS_PER_MINUTE per line" };
    private readonly Option<int?> _maxQueued = new("--max-queued-requests") { Description = "Requests per model waiting for their first token; beyond it requests are refused at once (503)" };
    private readonly Option<double?> _timeout = new("--request-timeout") { Description = "Seconds a request may take, queueing included" };
    private readonly Option<string[]> _cors = new("--cors-origin") { Description = "Origin allowed by CORS (repeatable; CORS is off without one)" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _host, _port, _grpcPort, _apiKeys, _apiKeyFile, _maxQueued, _timeout, _cors }) command.Options.Add(o);
    }

    /// <summary>appsettings.json in the working directory, then environment variables: what silo, serve and gateway read.</summary>
    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();

    public GatewayOptions Read(ParseResult r, IConfiguration configuration)
    {
        var options = new GatewayOptions();
        try
        {
            configuration.GetSection(GatewayOptions.Section).Bind(options);
            if (r.GetValue(_host) is { } host) options.Host = host;
            if (r.GetValue(_port) is { } port) options.Port = port;
            if (r.GetValue(_grpcPort) is { } grpc) options.GrpcPort = grpc;
            if (r.GetValue(_apiKeys) is { Length: > 0 } keys) options.ApiKeys = [.. options.ApiKeys, .. keys];
            if (r.GetValue(_apiKeyFile) is { } file) options.ApiKeyFile = file;
            if (r.GetValue(_maxQueued) is { } queued) options.MaxQueuedRequests = queued;
            if (r.GetValue(_timeout) is { } seconds) options.RequestTimeout = seconds is > 0 and < 1e7 ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
            if (r.GetValue(_cors) is { Length: > 0 } origins) options.CorsOrigins = [.. options.CorsOrigins, .. origins];
            return options.Validate();
        }
        catch (GatewayConfigurationException e)
        {
            throw new CliException($"invalid configuration: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new CliException($"invalid configuration: {GatewayOptions.Section}: {e.Message}");
        }
    }
}
