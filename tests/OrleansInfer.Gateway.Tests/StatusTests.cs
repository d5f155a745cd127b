using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansInfer.Gateway.Tests;

/// <summary>Health, readiness, version, cluster status and API keys against a real gateway.</summary>
public sealed class StatusTests
{
    [Fact]
    public async Task ProbesVersionAndClusterStatusAnswer()
    {
        await using var server = await GatewayServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
        var version = await http.GetFromJsonAsync<JsonElement>("/version");
        Assert.False(string.IsNullOrEmpty(version.GetProperty("version").GetString()));

        var status = await http.GetFromJsonAsync<JsonElement>("/cluster/status");
        var worker = Assert.Single(status.GetProperty("workers").EnumerateArray());
        Assert.Equal(256, worker.GetProperty("kv_total_blocks").GetInt32());
        Assert.Equal(256, worker.GetProperty("kv_free_blocks").GetInt32());
        Assert.True(worker.GetProperty("healthy").GetBoolean());
        Assert.StartsWith("CPU", worker.GetProperty("device").GetString());
    }

    [Fact]
    public async Task WithKeysEveryRouteButTheProbesNeedsOne()
    {
        await using var server = await GatewayServer.StartAsync(o => o.ApiKeys = ["secret-1", "limited:2"]);
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);

        foreach (var route in new[] { "/version", "/cluster/status", "/v1/models" })
        {
            var refused = await http.GetAsync(route);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var error = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Equal("authentication_error", error.GetProperty("type").GetString());
            Assert.Equal("missing API key: send Authorization: Bearer KEY", error.GetProperty("message").GetString());
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/version") { Headers = { { "Authorization", "Bearer secret-2" } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/version") { Headers = { { "Authorization", "Bearer secret-1" } } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right)).StatusCode);

        for (var i = 0; i < 2; i++)
        {
            using var ok = new HttpRequestMessage(HttpMethod.Get, "/version") { Headers = { { "Authorization", "Bearer limited" } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(ok)).StatusCode);
        }
        using var third = new HttpRequestMessage(HttpMethod.Get, "/version") { Headers = { { "Authorization", "Bearer limited" } } };
        var limited = await http.SendAsync(third);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "expected a Retry-After header");
        Assert.Equal("rate_limit_error", (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task ARequestIdIsEchoedOrMade()
    {
        await using var server = await GatewayServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        using var given = new HttpRequestMessage(HttpMethod.Get, "/health") { Headers = { { "X-Request-Id", "abc-123" } } };
        Assert.Equal("abc-123", (await http.SendAsync(given)).Headers.GetValues("X-Request-Id").Single());
        var made = (await http.GetAsync("/health")).Headers.GetValues("X-Request-Id").Single();
        Assert.StartsWith("req-", made);
    }
}
