using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.StatusPage;
using OrleansInfer.Gateway.Tests.OpenAi;

namespace OrleansInfer.Gateway.Tests.StatusPage;

/// <summary>/status/data and /status/events over plain HTTP, in front of a scripted cluster with two workers.</summary>
public sealed class StatusDataTests
{
    internal const string KeyA = "10.0.0.1:11111@100|0|fake";
    internal const string KeyB = "10.0.0.2:11111@200|1|fake";

    internal static FakeCluster TwoWorkers() => new()
    {
        Workers =
        [
            new WorkerLoad
            {
                WorkerKey = KeyB, ModelId = "fake", Device = "CPU (2 threads)", BlockSize = 16, TotalBlocks = 64, FreeBlocks = 60, CachedBlocks = 3,
                RunningRequests = 2, WaitingRequests = 1, TokensPerSecond = 12.5, Draining = true,
            },
            new WorkerLoad
            {
                WorkerKey = KeyA, ModelId = "fake", Device = "CUDA 0: H100", BlockSize = 16, TotalBlocks = 128, FreeBlocks = 128,
                TokensPerSecond = 0, Healthy = false, HealthReason = "3 failed steps in a row",
            },
        ],
    };

    [Fact]
    public async Task DataListsWorkersSilosThroughputAndRecentRequests()
    {
        var fake = TwoWorkers();
        var (app, http) = await fake.StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        var finished = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        app.Services.GetRequiredService<RecentRequests>().Add(new RequestRecord(finished, "fake", "chat", 7, 3, 0.01234, 0.00456, 0.25, "stop", null));
        app.Services.GetRequiredService<RecentRequests>().Add(new RequestRecord(finished.AddSeconds(1), "fake", "text_completion", 5, 0, null, null, 0.5, null, "timeout"));

        // The sampler takes its first sample as the gateway starts, on its own task.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JsonElement data;
        while (true)
        {
            var response = await http.GetAsync("/status/data");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (data.GetProperty("throughput").GetProperty("times").GetArrayLength() > 0) break;
            Assert.True(DateTime.UtcNow < deadline, "expected a throughput sample within 10 s of the gateway's start");
            await Task.Delay(50);
        }

        Assert.Equal(["generated_at", "version", "cluster_error", "dashboard_path", "totals", "silos", "workers", "throughput", "recent_requests"], Names(data));
        Assert.Equal(JsonValueKind.Null, data.GetProperty("cluster_error").ValueKind);
        Assert.Equal(JsonValueKind.Null, data.GetProperty("dashboard_path").ValueKind);
        Assert.Equal(StatusEndpoints.Version, data.GetProperty("version").GetString());
        Assert.Equal(J("{'silos':2,'workers':2,'running':2,'waiting':1,'tokens_per_second':12.5}"), data.GetProperty("totals").GetRawText());
        Assert.Equal(
            J("[{'address':'10.0.0.1:11111@100','workers':1,'running':0,'waiting':0,'tokens_per_second':0},") +
            J("{'address':'10.0.0.2:11111@200','workers':1,'running':2,'waiting':1,'tokens_per_second':12.5}]"),
            data.GetProperty("silos").GetRawText());

        // Workers ordered by silo; the history of each is aligned with the sample times.
        var throughput = data.GetProperty("throughput");
        Assert.Equal(2, throughput.GetProperty("interval_seconds").GetDouble());
        Assert.Equal(600, throughput.GetProperty("window_seconds").GetDouble());
        var samples = throughput.GetProperty("times").GetArrayLength();
        Assert.All(throughput.GetProperty("total").EnumerateArray(), t => Assert.Equal(12.5, t.GetDouble()));
        var workers = data.GetProperty("workers").EnumerateArray().ToArray();
        Assert.Equal([KeyA, KeyB], workers.Select(w => w.GetProperty("key").GetString()));
        var a = workers[0];
        Assert.Equal(
            ["key", "silo", "device", "model", "kv_block_size", "kv_total_blocks", "kv_free_blocks", "kv_used_blocks", "kv_cached_blocks",
             "running", "waiting", "tokens_per_second", "healthy", "health_reason", "draining", "tokens_per_second_history"], Names(a));
        Assert.Equal(
            J("{'key':'10.0.0.1:11111@100|0|fake','silo':'10.0.0.1:11111@100','device':'CUDA 0: H100','model':'fake','kv_block_size':16,") +
            J("'kv_total_blocks':128,'kv_free_blocks':128,'kv_used_blocks':0,'kv_cached_blocks':0,'running':0,'waiting':0,'tokens_per_second':0,") +
            J("'healthy':false,'health_reason':'3 failed steps in a row','draining':false,'tokens_per_second_history':") + Repeat("0", samples) + "}",
            a.GetRawText());
        var b = workers[1];
        Assert.Equal(4, b.GetProperty("kv_used_blocks").GetInt32());
        Assert.Equal(3, b.GetProperty("kv_cached_blocks").GetInt32());
        Assert.True(b.GetProperty("draining").GetBoolean());
        Assert.Equal(Repeat("12.5", samples), b.GetProperty("tokens_per_second_history").GetRawText());

        // Newest first, milliseconds rounded to 0.1.
        Assert.Equal(
            J("[{'finished':'2026-01-02T03:04:06+00:00','model':'fake','operation':'text_completion','prompt_tokens':5,'output_tokens':0,") +
            J("'ttft_ms':null,'tpot_ms':null,'duration_ms':500,'finish_reason':null,'error_type':'timeout'},") +
            J("{'finished':'2026-01-02T03:04:05+00:00','model':'fake','operation':'chat','prompt_tokens':7,'output_tokens':3,") +
            J("'ttft_ms':12.3,'tpot_ms':4.6,'duration_ms':250,'finish_reason':'stop','error_type':null}]"),
            data.GetProperty("recent_requests").GetRawText());
    }

    [Fact]
    public async Task AClusterThatCannotBeReadIsReportedNotFailed()
    {
        var fake = new FakeCluster { WorkersError = new InvalidOperationException("router unreachable") };
        var (app, http) = await fake.StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        var data = JsonDocument.Parse(await http.GetStringAsync("/status/data")).RootElement;
        Assert.Equal("router unreachable", data.GetProperty("cluster_error").GetString());
        Assert.Equal(0, data.GetProperty("workers").GetArrayLength());
        Assert.Equal(0, data.GetProperty("throughput").GetProperty("times").GetArrayLength());
    }

    [Fact]
    public async Task EventsPushTheDataAgainAndAgain()
    {
        var fake = TwoWorkers();
        var (app, http) = await fake.StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        using var response = await http.GetAsync("/status/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var times = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            Assert.StartsWith("data: {", line);
            Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
            var data = JsonDocument.Parse(line!["data: ".Length..]).RootElement;
            Assert.Equal([KeyA, KeyB], data.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("key").GetString()));
            times.Add(data.GetProperty("generated_at").GetString());
        }
        Assert.NotEqual(times[0], times[1]);
    }

    [Fact]
    public async Task AnOpenEventStreamDoesNotHoldUpTheGatewaysStop()
    {
        var (app, http) = await TwoWorkers().StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        using var response = await http.GetAsync("/status/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        // Without ending the stream the host would wait its 30 s shutdown timeout.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await app.StopAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"expected the gateway to stop at once with an event stream open; it took {clock.Elapsed.TotalSeconds:0.0} s");
        await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>JSON written with single quotes (readable in C#).</summary>
    private static string J(string json) => json.Replace('\'', '"');

    private static string[] Names(JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name)];

    private static string Repeat(string value, int count) => "[" + string.Join(",", Enumerable.Repeat(value, count)) + "]";
}
