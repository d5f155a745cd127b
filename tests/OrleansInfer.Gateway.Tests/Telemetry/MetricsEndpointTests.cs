using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using OrleansInfer.Gateway.Telemetry;
using OrleansInfer.Gateway.Tests.OpenAi;

namespace OrleansInfer.Gateway.Tests.Telemetry;

/// <summary>/metrics: Prometheus text of the GenAI histograms with the declared buckets, open without an API key.</summary>
public sealed partial class MetricsEndpointTests
{
    [Fact]
    public async Task MetricsServesTheGenAiHistogramsWithTheirBucketsWithoutAKey()
    {
        var modelId = TelemetryKit.UniqueModelId("prom");
        await using var server = await GatewayServer.StartAsync(o => o.ApiKeys = ["secret"], o => o.ModelId = modelId);
        using var http = OpenAiKit.Http(server);
        using var completion = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = modelId, prompt = "Once upon a time", max_tokens = 3, ignore_eos = true }),
            Headers = { { "Authorization", "Bearer secret" } },
        };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(completion)).StatusCode);

        // The exporter caches a scrape briefly and the request is recorded once its response ended: poll.
        var series = $"gen_ai_request_model=\"{modelId}\"";
        string text = "";
        await TelemetryKit.EventuallyAsync(() =>
        {
            using var scrape = http.GetAsync("/metrics").GetAwaiter().GetResult();
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
            text = scrape.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            return text.Split('\n').Any(l => l.StartsWith("gen_ai_server_request_duration_seconds_count{", StringComparison.Ordinal) && l.Contains(series, StringComparison.Ordinal));
        }, $"a gen_ai_server_request_duration_seconds_count series of model {modelId} at /metrics");

        var lines = text.Split('\n');
        var ttft = lines.Where(l => l.StartsWith("gen_ai_server_time_to_first_token_seconds_bucket{", StringComparison.Ordinal) && l.Contains(series, StringComparison.Ordinal)).ToList();
        var expected = GenAiMetrics.TimeToFirstTokenBuckets.Select(b => b.ToString(CultureInfo.InvariantCulture)).Append("+Inf");
        Assert.Equal(expected, ttft.Select(l => Le().Match(l).Groups[1].Value));
        Assert.Contains("le=\"0.001\"", ttft[0]);
        Assert.All(ttft, l => Assert.Contains("gen_ai_operation_name=\"text_completion\"", l));
        var count = lines.Single(l => l.StartsWith("gen_ai_server_time_to_first_token_seconds_count{", StringComparison.Ordinal) && l.Contains(series, StringComparison.Ordinal));
        Assert.Equal("1", ValueOf(count));
        var tpot = lines.Where(l => l.StartsWith("gen_ai_server_time_per_output_token_seconds_bucket{", StringComparison.Ordinal) && l.Contains(series, StringComparison.Ordinal));
        Assert.Equal(GenAiMetrics.TimePerOutputTokenBuckets.Select(b => b.ToString(CultureInfo.InvariantCulture)).Append("+Inf"), tpot.Select(l => Le().Match(l).Groups[1].Value));
        Assert.Contains(lines, l => l.StartsWith("gen_ai_client_token_usage_bucket{", StringComparison.Ordinal) && l.Contains("gen_ai_token_type=\"output\"", StringComparison.Ordinal) && l.Contains(series, StringComparison.Ordinal));
    }

    /// <summary>A sample line's value: "name{labels} VALUE [TIMESTAMP]".</summary>
    private static string ValueOf(string line) => line[(line.LastIndexOf('}') + 2)..].Split(' ')[0];

    [GeneratedRegex("le=\"([^\"]+)\"")]
    private static partial Regex Le();
}
