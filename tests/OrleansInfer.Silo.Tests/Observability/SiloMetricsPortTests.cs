using System.Text.Json;
using OrleansInfer.Abstractions;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>
/// `orleans-infer silo --http-port P` scraped by a real Prometheus: the engine's series carry the silo's own worker
/// (as the router lists it) and silo labels.
/// </summary>
[Collection(nameof(ObservabilityCollection))]
public sealed class SiloMetricsPortTests
{
    private const int Terminate = 15;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PrometheusScrapesTheSilosEngineSeriesWithItsWorkerLabel()
    {
        int siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next(), httpPort = FreePorts.Next();
        using var silo = new ChildProcess("silo", "silo", "--model", SharedData.Stories260KGguf, "--threads", "1", "--silo-port", $"{siloPort}",
            "--primary-silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--http-port", $"{httpPort}");
        await silo.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(60), "the silo's ready line");

        using var status = new ChildProcess("cluster status", "cluster", "status", "--cluster", $"localhost:{gatewayPort}", "--json");
        Assert.True(await status.WaitForExit(TimeSpan.FromSeconds(60)) == 0, $"cluster status failed:\n{string.Join('\n', status.Lines)}");
        using var doc = JsonDocument.Parse(status.Output);
        var key = doc.RootElement.GetProperty("workers").EnumerateArray().Single().GetProperty("worker").GetString()!;

        using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string> { ["silo"] = $"127.0.0.1:{httpPort}" });
        await prometheus.WaitForTargetsUpAsync(Deadline);
        var engine = await prometheus.WaitForAsync($"{{__name__=~\"orleansinfer_.+\",worker=\"{key}\"}}", Deadline,
            $"orleansinfer_ series labelled with the silo's worker {key}", namePrefix: "orleansinfer");
        Assert.Contains(engine, s => s.Name == "orleansinfer_kv_cache_usage");
        Assert.All(engine, s => Assert.Equal(("stories260K", WorkerKeys.Parse(key).Silo), (s.Labels["model"], s.Labels["silo"])));

        silo.Signal(Terminate);
        Assert.Equal(0, await silo.WaitForExit(TimeSpan.FromSeconds(60)));
    }
}
