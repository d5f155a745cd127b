using System.Text.Json;
using OrleansInfer.Cli.Bench;
using OrleansInfer.Testing;

namespace OrleansInfer.Cli.Tests;

/// <summary>`bench serve` against <see cref="FakeGateway"/>: counts, errors and the report; argument and connection errors.</summary>
public sealed class ServeBenchTests
{
    private const int Prompts = 12;
    private static readonly string[] Workload = ["--num-prompts", "12", "--input-len", "4:16", "--output-len", "2:9", "--seed", "3"];

    private static async Task<CliRunner.Result> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync(args, new StringReader(""), output, error);
        return new CliRunner.Result(code, output.ToString(), error.ToString());
    }

    private static string[] Serve(string url, string api, params string[] more) => ["bench", "serve", "--url", url, "--api", api, .. Workload, .. more];

    private static string UrlFor(FakeGateway fake, string api) => api == "grpc" ? fake.GrpcUrl : fake.HttpUrl;

    [Theory]
    [InlineData("openai", "inf", null)]
    [InlineData("openai", "400", "2")]
    [InlineData("grpc", "inf", null)]
    [InlineData("grpc", "400", "2")]
    public async Task EveryRequestCompletesWithTheWorkloadsExactOutputLengths(string api, string rate, string? concurrency)
    {
        await using var fake = await FakeGateway.StartAsync(apiKey: "k1");
        string[] extra = concurrency is null ? ["--request-rate", rate, "--api-key", "k1", "--json"] : ["--request-rate", rate, "--api-key", "k1", "--max-concurrency", concurrency, "--json"];
        var r = await RunAsync(Serve(UrlFor(fake, api), api, extra));
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);

        var expected = new ThroughputWorkload(Prompts, (4, 16), (2, 9), 3).Build(512);
        Assert.Equal(api, j.GetProperty("api").GetString());
        Assert.Equal("fake", j.GetProperty("model").GetString());
        Assert.Equal(Prompts, j.GetProperty("num_prompts").GetInt32());
        Assert.Equal(Prompts, j.GetProperty("completed").GetInt32());
        Assert.Equal(0, j.GetProperty("failed").GetInt32());
        Assert.Empty(j.GetProperty("errors").EnumerateObject());
        Assert.Equal(expected.Sum(w => w.OutputTokens), j.GetProperty("total_output_tokens").GetInt64());
        Assert.Equal(expected.Sum(w => w.Prompt.Length), j.GetProperty("total_input_tokens").GetInt64());
        if (rate == "inf") Assert.Equal("inf", j.GetProperty("request_rate").GetString());
        else Assert.Equal(400, j.GetProperty("request_rate").GetDouble());

        // The server saw exactly the seeded workload (in some order), greedy and past EOS.
        var received = fake.Requests.ToList();
        Assert.Equal(
            expected.Select(w => $"{string.Join(',', w.Prompt)}/{w.OutputTokens}").Order(),
            received.Select(q => $"{string.Join(',', q.Prompt)}/{q.MaxTokens}").Order());
        Assert.All(received, q => Assert.True(q.Temperature == 0 && q.IgnoreEos && q.Prompt.All(id => id is >= 3 and < 512)));
        AssertReportFields(j, expectTimings: true);
    }

    [Theory]
    [InlineData("openai", "503")]
    [InlineData("grpc", "RESOURCE_EXHAUSTED")]
    public async Task RefusedRequestsAreCountedByStatusAndTheRunStillReports(string api, string status)
    {
        await using var fake = await FakeGateway.StartAsync(failEvery: 3);
        var r = await RunAsync(Serve(UrlFor(fake, api), api, "--json"));
        Assert.True(r.ExitCode == 0, r.Error);
        var j = Assert.Single(r.JsonLines);
        Assert.Equal(Prompts / 3, j.GetProperty("failed").GetInt32());
        Assert.Equal(Prompts - Prompts / 3, j.GetProperty("completed").GetInt32());
        var error = Assert.Single(j.GetProperty("errors").EnumerateObject());
        Assert.Equal((status, Prompts / 3), (error.Name, error.Value.GetInt32()));
        // Only the completed requests' tokens count.
        Assert.Equal(fake.Requests.Sum(q => q.MaxTokens), j.GetProperty("total_output_tokens").GetInt64());
        AssertReportFields(j, expectTimings: true);
    }

    [Fact]
    public async Task TheTextReportNamesTheCountsAndLatencies()
    {
        await using var fake = await FakeGateway.StartAsync(failEvery: 4);
        var r = await RunAsync(Serve(fake.HttpUrl + "/v1", "openai", "--request-rate", "1000"));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("completed 9, failed 3 (503: 3)", r.Output);
        foreach (var row in new[] { "ttft", "tpot", "itl", "e2e", "output tokens/s" }) Assert.Contains(row, r.Output);
    }

    [Theory]
    [InlineData("--request-rate", "0")]
    [InlineData("--request-rate", "fast")]
    [InlineData("--input-len", "9:2")]
    [InlineData("--output-len", "0")]
    [InlineData("--num-prompts", "0")]
    [InlineData("--max-concurrency", "0")]
    [InlineData("--vocab-size", "3")]
    [InlineData("--url", "localhost:8080")]
    [InlineData("--url", "ftp://host/")]
    [InlineData("--api", "rest")]
    public async Task BadArgumentsAreOneLineUsageErrors(string option, string value)
    {
        // Nothing listens on the URL: every one of these must fail before any request is sent.
        var r = await RunAsync(["bench", "serve", "--url", "http://127.0.0.1:9", .. Workload, option, value]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orleans-infer: ", r.Error);
    }

    [Fact]
    public async Task AWorkloadLongerThanTheServersContextIsRefused()
    {
        await using var fake = await FakeGateway.StartAsync(maxModelLen: 20);
        var r = await RunAsync(Serve(fake.HttpUrl, "openai"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("context of 20", r.Error);
        Assert.Empty(fake.Requests);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("grpc")]
    public async Task AnUnreachableServerExitsOneWithOneLine(string api)
    {
        var r = await RunAsync(Serve($"http://127.0.0.1:{FreePorts.Next()}", api));
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("cannot reach", r.Error);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("grpc")]
    public async Task ARefusedKeyExitsOne(string api)
    {
        await using var fake = await FakeGateway.StartAsync(apiKey: "right");
        var r = await RunAsync(Serve(UrlFor(fake, api), api, "--api-key", "wrong"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("refused the API key", r.Error);
    }

    [Fact]
    public void ArrivalsArePoissonFromTheSeedAndAllAtOnceForInf()
    {
        Assert.All(ServeBenchWorkload.Arrivals(5, double.PositiveInfinity, 1), t => Assert.Equal(TimeSpan.Zero, t));
        var a = ServeBenchWorkload.Arrivals(20_000, 10, 7);
        Assert.Equal(a, ServeBenchWorkload.Arrivals(20_000, 10, 7));
        Assert.NotEqual(a, ServeBenchWorkload.Arrivals(20_000, 10, 8));
        Assert.Equal(TimeSpan.Zero, a[0]);
        Assert.True(a.Zip(a.Skip(1)).All(p => p.First <= p.Second));
        // Mean gap 1/rate = 100 ms; 20k exponential samples put the mean within a few percent.
        Assert.InRange(a[^1].TotalSeconds / (a.Length - 1), 0.095, 0.105);
    }

    [Fact]
    public void GrpcStatusNamesAreTheCanonicalOnes()
    {
        Assert.Equal("RESOURCE_EXHAUSTED", ServeBenchGrpcClient.StatusName(Grpc.Core.StatusCode.ResourceExhausted));
        Assert.Equal("UNAVAILABLE", ServeBenchGrpcClient.StatusName(Grpc.Core.StatusCode.Unavailable));
        Assert.Equal("OK", ServeBenchGrpcClient.StatusName(Grpc.Core.StatusCode.OK));
    }

    private static void AssertReportFields(JsonElement j, bool expectTimings)
    {
        foreach (var field in new[] { "url", "duration_s", "request_throughput", "output_throughput", "total_token_throughput" })
            Assert.True(j.TryGetProperty(field, out _), field);
        Assert.True(j.GetProperty("output_throughput").GetDouble() > 0);
        foreach (var metric in new[] { "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms" })
            foreach (var stat in new[] { "mean", "p50", "p90", "p99" })
            {
                var v = j.GetProperty(metric).GetProperty(stat);
                if (expectTimings) Assert.True(v.ValueKind == JsonValueKind.Number && v.GetDouble() >= 0, $"{metric}.{stat}");
            }
        Assert.True(j.GetProperty("ttft_ms").GetProperty("p50").GetDouble() <= j.GetProperty("e2e_ms").GetProperty("p50").GetDouble());
    }
}
