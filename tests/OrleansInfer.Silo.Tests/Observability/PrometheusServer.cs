using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's `prometheus`) started by a test on a free loopback port with its own temporary storage,
/// scraping the given targets every second (one job each); its HTTP API is polled with deadlines.
/// </summary>
public sealed class PrometheusServer : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private readonly ChildProcess _process;
    private readonly string _folder;
    private readonly HttpClient _http;

    private PrometheusServer(ChildProcess process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    /// <summary>Prometheus' own log (stderr), for failure messages.</summary>
    public string Log => string.Join('\n', _process.Lines.TakeLast(20));

    /// <summary>
    /// Writes prometheus.yml with a job per target (name to host:port; metrics at /metrics), starts Prometheus and waits
    /// until its API is ready. <paramref name="binary"/> defaults to `prometheus` on PATH; missing, it fails saying what to install.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, string> targets, string? binary = null)
    {
        binary ??= Executables.Find("prometheus");
        if (binary is null || !File.Exists(binary))
        {
            throw new InvalidOperationException($"prometheus not found ({binary ?? "not on PATH"}): install Debian's prometheus package "
                + "(apt-get install prometheus; .ci/run installs it) for the end-to-end observability tests");
        }
        var folder = Directory.CreateTempSubdirectory("orleans-infer-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, Config(targets));
        var port = FreePorts.Next();
        var process = new ChildProcess("prometheus", binary,
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]);
        var server = new PrometheusServer(process, folder, port);
        try
        {
            await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>The configuration: a 1 s scrape interval and one static job per target.</summary>
    public static string Config(IReadOnlyDictionary<string, string> targets)
    {
        var yaml = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n");
        foreach (var (job, target) in targets)
            yaml.Append(CultureInfo.InvariantCulture, $"  - job_name: '{job}'\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n");
        return yaml.ToString();
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"prometheus exited before it was ready. Output:\n{string.Join('\n', _process.Lines)}");
            try
            {
                if ((await _http.GetAsync("/-/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"prometheus: expected /-/ready to answer 200 within {timeout.TotalSeconds} s. Output:\n{Log}");
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>The scrape targets: job, scrape URL, health (up, down, unknown) and the last scrape error.</summary>
    public async Task<IReadOnlyList<(string Job, string Url, string Health, string LastError)>> TargetsAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/targets?state=active"));
        return doc.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Select(t => (t.GetProperty("labels").GetProperty("job").GetString()!, t.GetProperty("scrapeUrl").GetString()!,
                t.GetProperty("health").GetString()!, t.GetProperty("lastError").GetString()!))
            .ToList();
    }

    /// <summary>Polls /api/v1/targets until every target's last scrape succeeded; the failure names each target's error.</summary>
    public async Task WaitForTargetsUpAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var targets = await TargetsAsync();
            if (targets.Count > 0 && targets.All(t => t.Health == "up")) return;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"prometheus: expected every target up within {timeout.TotalSeconds} s; targets: "
                    + string.Join("; ", targets.Select(t => $"{t.Job} {t.Url} {t.Health} {t.LastError}")) + $"\nLog:\n{Log}");
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>An instant query (/api/v1/query): the vector's series.</summary>
    public async Task<IReadOnlyList<PrometheusSeries>> QueryAsync(string promql)
    {
        var response = await _http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"prometheus: query {promql} answered {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var data = doc.RootElement.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector") throw new InvalidOperationException($"prometheus: query {promql} is not a vector: {body}");
        return data.GetProperty("result").EnumerateArray().Select(PrometheusSeries.From).ToList();
    }

    /// <summary>
    /// Polls <paramref name="promql"/> until its result satisfies <paramref name="complete"/> (default: not empty); the
    /// failure says what was expected, the last result, the targets, and the metric names Prometheus has that start
    /// with <paramref name="namePrefix"/>, so a name rendered differently shows.
    /// </summary>
    public async Task<IReadOnlyList<PrometheusSeries>> WaitForAsync(string promql, TimeSpan timeout, string expected,
        Func<IReadOnlyList<PrometheusSeries>, bool>? complete = null, string namePrefix = "")
    {
        complete ??= r => r.Count > 0;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await QueryAsync(promql);
            if (complete(result)) return result;
            if (DateTime.UtcNow > deadline)
            {
                var names = (await MetricNamesAsync()).Where(n => n.StartsWith(namePrefix, StringComparison.Ordinal));
                var targets = await TargetsAsync();
                throw new TimeoutException($"prometheus: expected {expected} within {timeout.TotalSeconds} s from `{promql}`; last result: "
                    + (result.Count == 0 ? "empty" : string.Join("; ", result)) + "\n"
                    + $"targets: {string.Join("; ", targets.Select(t => $"{t.Job} {t.Url} {t.Health} {t.LastError}"))}\n"
                    + $"metric names{(namePrefix.Length > 0 ? $" starting {namePrefix}" : "")}: {string.Join(", ", names)}");
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Every metric name Prometheus has stored.</summary>
    public async Task<IReadOnlyList<string>> MetricNamesAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/label/__name__/values"));
        return doc.RootElement.GetProperty("data").EnumerateArray().Select(n => n.GetString()!).ToList();
    }

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
            // The killed server's files may linger a moment; the temp folder is left for the system to clean.
        }
    }
}

/// <summary>One series of an instant query: its labels (with __name__) and value.</summary>
public sealed record PrometheusSeries(IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Name => Labels.TryGetValue("__name__", out var n) ? n : "";

    internal static PrometheusSeries From(JsonElement e) => new(
        e.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
        double.Parse(e.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));

    public override string ToString() =>
        $"{Name}{{{string.Join(", ", Labels.Where(l => l.Key != "__name__").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\""))}}} {Value.ToString(CultureInfo.InvariantCulture)}";
}
