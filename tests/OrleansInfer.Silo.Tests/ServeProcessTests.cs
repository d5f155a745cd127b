using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// `serve` and `gateway` as real processes: the "ready" line with both URLs, the probes and status through the
/// gateway, SIGTERM draining to exit code 0, and invalid settings refused at start naming the setting.
/// </summary>
public sealed class ServeProcessTests
{
    private const int Terminate = 15;

    [Fact]
    public async Task ServeAnswersThenDrainsOnSigterm()
    {
        int port = FreePorts.Next(), grpc = FreePorts.Next();
        using var serve = new ChildProcess("serve", "serve", "--model", SharedData.Stories260KGguf, "--threads", "2", "--port", $"{port}", "--grpc-port", $"{grpc}");
        var ready = await serve.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(60), "the ready line");
        Assert.Contains($"http://127.0.0.1:{port}/v1", ready);
        Assert.Contains($"http://127.0.0.1:{grpc}", ready);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
        var status = await http.GetFromJsonAsync<JsonElement>("/cluster/status");
        Assert.Equal("stories260K", Assert.Single(status.GetProperty("workers").EnumerateArray()).GetProperty("model").GetString());

        serve.Signal(Terminate);
        Assert.Equal(0, await serve.WaitForExit(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task AGatewayProcessFrontsARunningCluster()
    {
        int siloPort = FreePorts.Next(), siloGateway = FreePorts.Next(), siloHttp = FreePorts.Next(), port = FreePorts.Next(), grpc = FreePorts.Next();
        using var running = new ChildProcess("silo", "silo", "--model", SharedData.Stories260KGguf, "--threads", "1", "--silo-port", $"{siloPort}",
            "--primary-silo-port", $"{siloPort}", "--gateway-port", $"{siloGateway}", "--model-id", "tiny", "--http-port", $"{siloHttp}");
        var siloReady = await running.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(60), "the silo's ready line");
        Assert.EndsWith($"Localhost clustering, http port {siloHttp}", siloReady);
        using (var probes = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{siloHttp}") })
        {
            Assert.Equal("""{"status":"ready"}""", await probes.GetStringAsync("/ready"));
            Assert.Contains("service_name=\"orleans-infer-silo\"", await probes.GetStringAsync("/metrics"));
        }

        using var gateway = new ChildProcess("gateway", "gateway", "--cluster", $"localhost:{siloGateway}", "--port", $"{port}", "--grpc-port", $"{grpc}", "--api-key", "k1");
        await gateway.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(60), "the gateway's ready line");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/cluster/status")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "k1");
        var status = await http.GetFromJsonAsync<JsonElement>("/cluster/status");
        Assert.Equal("tiny", Assert.Single(status.GetProperty("workers").EnumerateArray()).GetProperty("model").GetString());

        gateway.Signal(Terminate);
        Assert.Equal(0, await gateway.WaitForExit(TimeSpan.FromSeconds(60)));
        running.Signal(Terminate);
        Assert.Equal(0, await running.WaitForExit(TimeSpan.FromSeconds(60)));
    }

    [Theory]
    [InlineData("OrleansInfer:Gateway:Port must be a TCP port, got 70000", "--port", "70000")]
    [InlineData("OrleansInfer:Gateway:GrpcPort must be a TCP port other than the HTTP port, got 8000", "--port", "8000", "--grpc-port", "8000")]
    [InlineData("OrleansInfer:Gateway:ApiKeys each must be KEY or KEY:REQUESTS_PER_MINUTE", "--api-key", "bad key")]
    [InlineData("OrleansInfer:Gateway:RequestTimeout must be positive", "--request-timeout", "0")]
    [InlineData("OrleansInfer:Model file not found: /no/such.gguf", "--model", "/no/such.gguf")]
    public async Task InvalidSettingsStopTheStartNamingTheSetting(string expected, params string[] args)
    {
        string[] all = args.Contains("--model") ? ["serve", .. args] : ["serve", "--model", SharedData.Stories260KGguf, .. args];
        using var serve = new ChildProcess("serve", all);
        Assert.Equal(2, await serve.WaitForExit(TimeSpan.FromSeconds(60)));
        var errors = serve.Lines.Where(l => l.StartsWith("err: ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1 && errors[0].StartsWith($"err: orleans-infer: invalid configuration: {expected}", StringComparison.Ordinal), string.Join('\n', serve.Lines));
    }

    [Fact]
    public async Task EnvironmentSettingsAreReadAndCheckedToo()
    {
        var environment = new Dictionary<string, string> { ["OrleansInfer__Gateway__MaxQueuedRequests"] = "-1" };
        using var serve = new ChildProcess("serve", environment, "serve", "--model", SharedData.Stories260KGguf);
        Assert.Equal(2, await serve.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains(serve.Lines, l => l == "err: orleans-infer: invalid configuration: OrleansInfer:Gateway:MaxQueuedRequests must not be negative, got -1");
    }
}
