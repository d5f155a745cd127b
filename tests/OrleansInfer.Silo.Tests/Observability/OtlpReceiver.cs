using System.Globalization;
using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// The OTLP/HTTP receiver of tests/otlp-receiver (Node.js, decoding with OpenTelemetry's own generated protobuf code)
/// as a child process on a free port: what an exporter sent is read back from its GET /spans and GET /metrics.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private readonly ChildProcess _process;
    private readonly HttpClient _http;
    private readonly string _folder;

    private OtlpReceiver(ChildProcess process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The receiver's folder in the repository.</summary>
    public static string Folder => Path.Combine(SharedData.RepositoryRoot, "tests", "otlp-receiver");

    public int Port { get; }

    /// <summary>The base URL to give an exporter as OTEL_EXPORTER_OTLP_ENDPOINT (it appends /v1/traces and /v1/metrics).</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The JSON-lines files it writes: one span, or one metric data point, a line.</summary>
    public string SpansFile => Path.Combine(_folder, "spans.jsonl");

    public string MetricsFile => Path.Combine(_folder, "metrics.jsonl");

    /// <summary>Starts the receiver and waits for its `listening PORT` line; a missing Node.js or `npm ci` fails saying so.</summary>
    public static async Task<OtlpReceiver> StartAsync()
    {
        var script = Path.Combine(Folder, "receiver.js");
        if (!File.Exists(Path.Combine(Folder, "node_modules", "@opentelemetry", "otlp-transformer", "package.json")))
            throw new InvalidOperationException($"the OTLP receiver's packages are not installed: run `npm ci` in {Folder} (.ci/run does)");
        var node = Executables.Find("node")
            ?? throw new InvalidOperationException("node (Node.js) not found on PATH: the OTLP receiver in tests/otlp-receiver needs it");
        var folder = Directory.CreateTempSubdirectory("orleans-infer-otlp-").FullName;
        var process = new ChildProcess("otlp-receiver", node,
            [script, "--port", "0", "--spans", Path.Combine(folder, "spans.jsonl"), "--metrics", Path.Combine(folder, "metrics.jsonl"), "--exit-with-stdin"],
            redirectInput: true);
        try
        {
            var line = await process.WaitForLine(l => l.StartsWith("listening ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "`listening PORT`");
            return new OtlpReceiver(process, folder, int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture));
        }
        catch
        {
            process.Dispose();
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>Every span received so far.</summary>
    public async Task<IReadOnlyList<OtlpSpan>> SpansAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/spans"));
        return doc.RootElement.EnumerateArray().Select(OtlpSpan.From).ToList();
    }

    /// <summary>Every metric data point received so far.</summary>
    public async Task<IReadOnlyList<OtlpMetricPoint>> MetricPointsAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/metrics"));
        return doc.RootElement.EnumerateArray().Select(OtlpMetricPoint.From).ToList();
    }

    /// <summary>
    /// Polls until the spans of <paramref name="traceId"/> satisfy <paramref name="complete"/> (exporters batch, so
    /// spans arrive over time); on the deadline it fails saying what was expected and listing what came.
    /// </summary>
    public async Task<IReadOnlyList<OtlpSpan>> WaitForTraceAsync(string traceId, Func<IReadOnlyList<OtlpSpan>, bool> complete, TimeSpan timeout, string expected)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var all = await SpansAsync();
            var trace = all.Where(s => s.TraceId == traceId).ToList();
            if (complete(trace)) return trace;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"OTLP receiver: expected {expected} in trace {traceId} within {timeout.TotalSeconds} s; "
                    + $"it has {trace.Count} span(s) of that trace:\n{Describe(trace)}\n"
                    + $"and {all.Count} span(s) in all, named: {string.Join(", ", all.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal))}");
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Polls until metric points satisfy <paramref name="complete"/>; on the deadline it fails naming the metrics that came.</summary>
    public async Task<IReadOnlyList<OtlpMetricPoint>> WaitForMetricsAsync(Func<IReadOnlyList<OtlpMetricPoint>, bool> complete, TimeSpan timeout, string expected)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var all = await MetricPointsAsync();
            if (complete(all)) return all;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"OTLP receiver: expected {expected} within {timeout.TotalSeconds} s; it received {all.Count} metric point(s), of: "
                    + string.Join(", ", all.Select(p => $"{p.Name} ({p.Type}, unit '{p.Unit}')").Distinct().Order(StringComparer.Ordinal)));
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>One line per span: id, parent, name, kind, service.</summary>
    public static string Describe(IEnumerable<OtlpSpan> spans) =>
        string.Join('\n', spans.Select(s => $"  {s.SpanId} <- {s.ParentSpanId ?? "(root)"}  {s.Name}  [{s.Kind}, {s.Scope}, service {s.ServiceName}]"));

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the exiting receiver: the temp folder is left for the system to clean.
        }
    }
}
