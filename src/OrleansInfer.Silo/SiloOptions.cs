namespace OrleansInfer.Silo;

/// <summary>How cluster membership is kept.</summary>
public enum ClusteringKind
{
    /// <summary>One machine: the first silo is the primary (its silo port is the one others join).</summary>
    Localhost,

    /// <summary>A Redis membership table (Microsoft.Orleans.Clustering.Redis).</summary>
    Redis,

    /// <summary>Kubernetes hosting (pod names, endpoints, pod deletion = silo death) with Redis membership.</summary>
    Kubernetes,
}

/// <summary>
/// A silo's settings: the "OrleansInfer" configuration section (appsettings.json, OrleansInfer__* environment
/// variables) overridden by command-line flags. <see cref="Validate"/> names the first bad setting.
/// </summary>
public sealed record SiloOptions
{
    public const string Section = "OrleansInfer";

    /// <summary>The model file (GGUF or llama2.c .bin).</summary>
    public string? Model { get; set; }

    public string? Tokenizer { get; set; }

    /// <summary>A Jinja chat template file replacing the model's tokenizer.chat_template (clients receive it with the vocabulary).</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>The id clients name the model by (default: the file name without extension).</summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// Backend of the workers: auto (one ILGPU worker per CUDA device, else CPU workers), cpu, or ilgpu (CUDA
    /// devices, or ILGPU's CPU accelerator where there are none: slow, for tests).
    /// </summary>
    public string Backend { get; set; } = "auto";

    /// <summary>CPU workers on a machine without accelerators (each with its own engine and threads).</summary>
    public int CpuWorkers { get; set; } = 1;

    /// <summary>Fraction of free GPU memory the ILGPU workers may use (weights, activations, KV).</summary>
    public double GpuMemoryUtilization { get; set; } = 0.9;

    /// <summary>Threads per CPU worker (default: all cores shared by the workers).</summary>
    public int? Threads { get; set; }

    public int? KvBlocks { get; set; }

    public long KvCacheBytes { get; set; } = 1L << 30;

    public int BlockSize { get; set; } = 16;

    public int MaxNumBatchedTokens { get; set; } = 512;

    public int MaxNumSeqs { get; set; } = 256;

    /// <summary>How the KV cache stores keys and values: f32, f16 (half the bytes per token) or q8_0 (head sizes multiples of 32).</summary>
    public string KvCacheDtype { get; set; } = "f32";

    /// <summary><see cref="KvCacheDtype"/> parsed (valid after <see cref="Validate"/>).</summary>
    public OrleansInfer.Engine.Runner.KvCacheDataType KvCacheDataType =>
        OrleansInfer.Engine.Runner.KvCacheDataTypes.TryParse(KvCacheDtype, out var type) ? type : OrleansInfer.Engine.Runner.KvCacheDataType.F32;

    /// <summary>Requests a worker's engine lets wait for KV room; the router queues no more than this per worker.</summary>
    public int MaxWaitingRequests { get; set; } = 1024;

    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>HOST:PORT of the Redis server (redis and kubernetes clustering).</summary>
    public string? Redis { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost clustering: the silo port of the primary silo that others join.</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    public string ClusterId { get; set; } = "orleans-infer";

    public string ServiceId { get; set; } = "orleans-infer";

    /// <summary>How long a stopping silo lets running requests finish before moving them.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Adds this delay to every engine step (failover drills and demos; 0 in production).</summary>
    public int StepDelayMs { get; set; }

    /// <summary>The placement policy routers start with: kv-aware, least-loaded, round-robin or prefix-aware.</summary>
    public string RoutingPolicy { get; set; } = "kv-aware";

    /// <summary>How long a placement waits for a live worker (a router re-activating after its silo died) before NoWorkers.</summary>
    public TimeSpan PlacementWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failed engine steps after which a worker reports itself unhealthy and gets no placements.</summary>
    public int MaxConsecutiveFailures { get; set; } = 3;

    /// <summary>
    /// The silo's HTTP port for probes and metrics (`/health`, `/ready`, `/metrics`, `/status`); null (default) = none.
    /// It listens before the model loads and until the host has stopped.
    /// </summary>
    public int? HttpPort { get; set; }

    /// <summary>
    /// The address the HTTP port binds: an IP address or "localhost" (default 127.0.0.1; the Kubernetes manifests set
    /// 0.0.0.0 through OrleansInfer__HttpHost so the kubelet and Prometheus reach it).
    /// </summary>
    public string HttpHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// Whether this silo's host exports telemetry itself (Prometheus at /metrics, OTLP when the OTEL_* variables ask).
    /// `serve` turns it off: the gateway's provider in the same process exports everything.
    /// </summary>
    public bool ExportTelemetry { get; set; } = true;

    public string ResolvedModelId => ModelId ?? System.IO.Path.GetFileNameWithoutExtension(Model ?? "model");

    /// <summary>Throws <see cref="SiloConfigurationException"/> naming the setting at fault.</summary>
    public SiloOptions Validate()
    {
        static void Require(bool ok, string setting, string message)
        {
            if (!ok) throw new SiloConfigurationException($"{Section}:{setting}", message);
        }

        Require(!string.IsNullOrWhiteSpace(Model), nameof(Model), "is required (the model file to serve)");
        Require(File.Exists(Model), nameof(Model), $"file not found: {Model}");
        Require(Tokenizer is null || File.Exists(Tokenizer), nameof(Tokenizer), $"file not found: {Tokenizer}");
        Require(ChatTemplate is null || File.Exists(ChatTemplate), nameof(ChatTemplate), $"file not found: {ChatTemplate}");
        if (ChatTemplate is not null) Require(TemplateError(ChatTemplate) is null, nameof(ChatTemplate), $"{ChatTemplate}: {TemplateError(ChatTemplate)}");
        Require(Backend is "auto" or "cpu" or "ilgpu", nameof(Backend), $"must be auto, cpu or ilgpu, got '{Backend}'");
        Require(GpuMemoryUtilization is > 0 and <= 1, nameof(GpuMemoryUtilization), $"must be in (0, 1], got {GpuMemoryUtilization}");
        Require(CpuWorkers is >= 1 and <= 64, nameof(CpuWorkers), $"must be 1..64, got {CpuWorkers}");
        Require(Threads is null or >= 1, nameof(Threads), $"must be at least 1, got {Threads}");
        Require(KvBlocks is null or >= 1, nameof(KvBlocks), $"must be at least 1, got {KvBlocks}");
        Require(KvCacheBytes >= 1 << 20, nameof(KvCacheBytes), $"must be at least 1 MiB, got {KvCacheBytes}");
        Require(BlockSize is >= 1 and <= 1024, nameof(BlockSize), $"must be 1..1024, got {BlockSize}");
        Require(MaxNumBatchedTokens >= 1, nameof(MaxNumBatchedTokens), $"must be at least 1, got {MaxNumBatchedTokens}");
        Require(MaxNumSeqs >= 1, nameof(MaxNumSeqs), $"must be at least 1, got {MaxNumSeqs}");
        Require(OrleansInfer.Engine.Runner.KvCacheDataTypes.TryParse(KvCacheDtype ?? "", out _), nameof(KvCacheDtype), $"must be one of {OrleansInfer.Engine.Runner.KvCacheDataTypes.Names}, got '{KvCacheDtype}'");
        Require(MaxWaitingRequests >= 1, nameof(MaxWaitingRequests), $"must be at least 1, got {MaxWaitingRequests}");
        Require(SiloPort is > 0 and < 65536, nameof(SiloPort), $"must be a TCP port, got {SiloPort}");
        Require(GatewayPort is > 0 and < 65536 && GatewayPort != SiloPort, nameof(GatewayPort), $"must be a TCP port other than the silo port, got {GatewayPort}");
        Require(PrimarySiloPort is > 0 and < 65536, nameof(PrimarySiloPort), $"must be a TCP port, got {PrimarySiloPort}");
        Require(Clustering == ClusteringKind.Localhost || !string.IsNullOrWhiteSpace(Redis), nameof(Redis), $"is required with {Clustering} clustering (HOST:PORT)");
        Require(DrainTimeout >= TimeSpan.Zero, nameof(DrainTimeout), $"must not be negative, got {DrainTimeout}");
        Require(StepDelayMs >= 0, nameof(StepDelayMs), $"must not be negative, got {StepDelayMs}");
        Require(Grains.Routing.PlacementPolicies.Names.Contains(RoutingPolicy), nameof(RoutingPolicy), $"must be one of {string.Join(", ", Grains.Routing.PlacementPolicies.Names)}, got '{RoutingPolicy}'");
        Require(PlacementWait >= TimeSpan.Zero, nameof(PlacementWait), $"must not be negative, got {PlacementWait}");
        Require(MaxConsecutiveFailures >= 1, nameof(MaxConsecutiveFailures), $"must be at least 1, got {MaxConsecutiveFailures}");
        Require(HttpPort is null or (> 0 and < 65536) && HttpPort != SiloPort && HttpPort != GatewayPort, nameof(HttpPort), $"must be a TCP port other than the silo and gateway ports, got {HttpPort}");
        Require(HttpHost == "localhost" || System.Net.IPAddress.TryParse(HttpHost, out _), nameof(HttpHost), $"must be an IP address or localhost, got '{HttpHost}'");
        Require(!string.IsNullOrWhiteSpace(ClusterId), nameof(ClusterId), "must not be empty");
        Require(!ResolvedModelId.Contains('|'), nameof(ModelId), "must not contain '|'");
        return this;
    }

    /// <summary>Why the template file does not parse, or null when it does.</summary>
    private static string? TemplateError(string path)
    {
        try
        {
            OrleansInfer.Model.Templates.JinjaTemplate.Parse(File.ReadAllText(path));
            return null;
        }
        catch (OrleansInfer.Model.Templates.TemplateSyntaxException e)
        {
            return $"template syntax error at {e.Describe()}";
        }
    }
}

/// <summary>Invalid silo configuration: <see cref="Setting"/> names it ("OrleansInfer:Redis").</summary>
public sealed class SiloConfigurationException(string setting, string message) : Exception($"{setting} {message}")
{
    public string Setting { get; } = setting;
}
