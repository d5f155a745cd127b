namespace OrleansInfer.Gateway;

/// <summary>
/// The gateway's settings: section "OrleansInfer:Gateway" of appsettings.json or OrleansInfer__Gateway__* environment
/// variables, overridden by command-line flags. <see cref="Validate"/> names the setting at fault.
/// </summary>
public sealed record GatewayOptions
{
    public const string Section = "OrleansInfer:Gateway";

    /// <summary>Address both listeners bind to.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>HTTP/1.1 port of the OpenAI-compatible API, health and status.</summary>
    public int Port { get; set; } = 8000;

    /// <summary>HTTP/2 port of the gRPC API.</summary>
    public int GrpcPort { get; set; } = 50051;

    /// <summary>API keys: "KEY", or "KEY:N" for a key limited to N requests per minute. Empty: no authentication.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file of more API keys, one "KEY" or "KEY:N" per line ('#' starts a comment).</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>Requests per model admitted but not yet producing tokens; beyond it requests are refused at once.</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>The longest a request may take, queueing included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Largest request body accepted (HTTP 413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; set; } = 8L << 20;

    /// <summary>Origins allowed by CORS; empty turns CORS off.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>How often a waiting streaming request gets an SSE comment, so proxies keep the connection.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks every setting; the exception names the first one at fault.</summary>
    public GatewayOptions Validate()
    {
        static void Require(bool ok, string setting, string message)
        {
            if (!ok) throw new GatewayConfigurationException($"{Section}:{setting}", message);
        }

        Require(System.Net.IPAddress.TryParse(Host, out _) || Host == "localhost", nameof(Host), $"must be an IP address or localhost, got '{Host}'");
        Require(Port is > 0 and < 65536, nameof(Port), $"must be a TCP port, got {Port}");
        Require(GrpcPort is > 0 and < 65536 && GrpcPort != Port, nameof(GrpcPort), $"must be a TCP port other than the HTTP port, got {GrpcPort}");
        Require(MaxQueuedRequests >= 0, nameof(MaxQueuedRequests), $"must not be negative, got {MaxQueuedRequests}");
        Require(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), $"must be positive, got {RequestTimeout}");
        Require(MaxRequestBodyBytes >= 1024, nameof(MaxRequestBodyBytes), $"must be at least 1024, got {MaxRequestBodyBytes}");
        Require(KeepAliveInterval > TimeSpan.Zero, nameof(KeepAliveInterval), $"must be positive, got {KeepAliveInterval}");
        Require(ApiKeyFile is null || File.Exists(ApiKeyFile), nameof(ApiKeyFile), $"file not found: {ApiKeyFile}");
        foreach (var key in ApiKeys) Require(Security.ApiKey.TryParse(key, out _), nameof(ApiKeys), "each must be KEY or KEY:REQUESTS_PER_MINUTE, a non-empty key without spaces");
        return this;
    }
}

/// <summary>Invalid gateway configuration: <see cref="Setting"/> names it ("OrleansInfer:Gateway:Port").</summary>
public sealed class GatewayConfigurationException(string setting, string message) : Exception($"{setting} {message}")
{
    public string Setting { get; } = setting;
}
