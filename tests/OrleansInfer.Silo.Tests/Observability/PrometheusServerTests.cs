using System.Net;
using System.Text;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// The Prometheus fixture on its own: a real Prometheus scrapes a minimal endpoint serving Prometheus text and its
/// query API answers the series with their labels; a missing binary fails saying what to install.
/// </summary>
[Collection(nameof(ObservabilityCollection))]
public sealed class PrometheusServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ScrapesATextEndpointAndAnswersQueriesWithItsLabels()
    {
        const string text = "# HELP harness_requests_total Requests served.\n# TYPE harness_requests_total counter\n"
            + "harness_requests_total{model=\"stories260K\",worker=\"127.0.0.1:11111@1|0|stories260K\"} 3\n"
            + "harness_requests_total{model=\"other\",worker=\"w2\"} 1\n";
        using var endpoint = new TextEndpoint(text);
        using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string> { ["harness"] = $"127.0.0.1:{endpoint.Port}" });
        await prometheus.WaitForTargetsUpAsync(Deadline);

        var sample = Assert.Single(await prometheus.WaitForAsync("harness_requests_total{model=\"stories260K\"}", Deadline, "the stories260K series"));
        Assert.Equal(3, sample.Value);
        Assert.Equal(("harness_requests_total", "127.0.0.1:11111@1|0|stories260K", "harness", $"127.0.0.1:{endpoint.Port}"),
            (sample.Name, sample.Labels["worker"], sample.Labels["job"], sample.Labels["instance"]));
        Assert.Equal(2, (await prometheus.QueryAsync("harness_requests_total")).Count);
        Assert.True(endpoint.Scrapes > 0);
    }

    [Fact]
    public async Task AMissingBinaryFailsSayingWhatToInstall()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            PrometheusServer.StartAsync(new Dictionary<string, string> { ["x"] = "127.0.0.1:1" }, binary: "/no/such/prometheus"));
        Assert.Equal("prometheus not found (/no/such/prometheus): install Debian's prometheus package (apt-get install prometheus; .ci/run installs it) "
            + "for the end-to-end observability tests", e.Message);
    }

    [Fact]
    public void TheConfigurationScrapesEachTargetEverySecond()
    {
        var yaml = PrometheusServer.Config(new Dictionary<string, string> { ["gateway"] = "127.0.0.1:8000", ["silo"] = "127.0.0.1:8080" });
        Assert.Equal("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
            + "  - job_name: 'gateway'\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['127.0.0.1:8000']\n"
            + "  - job_name: 'silo'\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['127.0.0.1:8080']\n", yaml);
    }

    /// <summary>A minimal HTTP endpoint answering GET /metrics with fixed Prometheus text (exposition format 0.0.4).</summary>
    private sealed class TextEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _body;
        private readonly Task _loop;
        private int _scrapes;

        public TextEndpoint(string text)
        {
            _body = Encoding.UTF8.GetBytes(text);
            Port = FreePorts.Next();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public int Port { get; }

        public int Scrapes => Volatile.Read(ref _scrapes);

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return; // stopped
                }
                if (context.Request.Url?.AbsolutePath == "/metrics")
                {
                    Interlocked.Increment(ref _scrapes);
                    context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await context.Response.OutputStream.WriteAsync(_body);
                }
                else
                {
                    context.Response.StatusCode = 404;
                }
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(10));
        }
    }
}
