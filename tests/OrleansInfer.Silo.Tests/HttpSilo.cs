using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Silo.Http;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// A one-silo localhost cluster in the test process serving stories260K on a CPU worker, with its HTTP port on
/// loopback (free ports): the host `orleans-infer silo --http-port` runs, started step by step as the CLI does.
/// </summary>
public sealed class HttpSilo : IAsyncDisposable
{
    private bool _stopped;

    private HttpSilo(IHost host, SiloOptions options)
    {
        Host = host;
        Options = options;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{options.HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public IHost Host { get; }

    public SiloOptions Options { get; }

    /// <summary>A client of the silo's HTTP port.</summary>
    public HttpClient Http { get; }

    public string ModelId => Options.ResolvedModelId;

    /// <summary>Builds the host (not started); <paramref name="configure"/> adjusts the options.</summary>
    public static HttpSilo Create(Action<SiloOptions>? configure = null, RunnerFactory? runners = null, IConfiguration? configuration = null)
    {
        var siloPort = FreePorts.Next();
        var options = new SiloOptions
        {
            Model = SharedData.Stories260KGguf,
            Backend = "cpu",
            CpuWorkers = 1,
            Threads = 1,
            KvBlocks = 64,
            SiloPort = siloPort,
            PrimarySiloPort = siloPort,
            GatewayPort = FreePorts.Next(),
            HttpPort = FreePorts.Next(),
        };
        configure?.Invoke(options);
        var host = OrleansInferSilo.Build(options.Validate(), runners, configuration: configuration ?? new ConfigurationBuilder().Build());
        return new HttpSilo(host, options);
    }

    /// <summary>Builds and starts everything: the HTTP port, the engines, Orleans; returns once the workers are registered.</summary>
    public static async Task<HttpSilo> StartAsync(Action<SiloOptions>? configure = null, RunnerFactory? runners = null)
    {
        var silo = Create(configure, runners);
        await silo.StartHttpAsync();
        await silo.Host.StartAsync();
        await silo.Workers().WaitAsync(TimeSpan.FromMinutes(1));
        return silo;
    }

    public Task StartHttpAsync() => Host.Services.GetRequiredService<SiloHttpEndpoint>().EnsureStartedAsync();

    /// <summary>The keys of the started workers.</summary>
    public Task<string[]> Workers() => Host.Services.GetRequiredService<SiloReady>().Workers;

    public WorkerEngines Engines => Host.Services.GetRequiredService<WorkerEngines>();

    /// <summary>A status code and body from the silo's HTTP port.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> says so or the deadline passes (then fails naming what was expected).</summary>
    public async Task<(HttpStatusCode Status, string Body)> PollAsync(string path, Func<HttpStatusCode, string, bool> done, string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        (HttpStatusCode Status, string Body) last;
        do
        {
            last = await GetAsync(path);
            if (done(last.Status, last.Body)) return last;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"expected {path} to answer {expected} in time; last answer {(int)last.Status}: {last.Body}");
        return last;
    }

    /// <summary>One greedy request through the cluster (router, worker grain, engine); returns its token count.</summary>
    public async Task<int> GenerateAsync(int maxTokens = 6, CancellationToken cancellationToken = default)
    {
        var streams = new ClusterStreamClient(Host.Services.GetRequiredService<IClusterClient>());
        var request = new GenerateRequest
        {
            RequestId = Guid.NewGuid().ToString("n"),
            PromptTokens = [1, 100, 200, 300],
            Sampling = new SamplingSpec { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true },
        };
        var tokens = 0;
        await foreach (var chunk in streams.GenerateAsync(ModelId, request, cancellationToken)) tokens += chunk.TokenIds.Length;
        return tokens;
    }

    /// <summary>Stops the host (drains), as SIGTERM does.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await Host.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped) await Host.StopAsync();
        Host.Dispose();
        Http.Dispose();
    }
}
