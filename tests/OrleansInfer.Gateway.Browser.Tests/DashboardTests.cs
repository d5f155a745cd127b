using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>The Orleans Dashboard under /dashboard, from an Orleans client's services (`gateway`) and a silo's (`serve`).</summary>
[Collection(nameof(BrowserClusterCollection))]
public sealed class DashboardTests(BrowserCluster fixture)
{
    [Fact]
    public async Task TheDashboardIsServedFromTheClusterClientsServices()
    {
        var address = BrowserCluster.AddressOf(fixture.Open);
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = address };
        var bare = await noRedirect.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
        Assert.Equal("/dashboard/", bare.Headers.Location?.OriginalString);
        var index = await noRedirect.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        await AssertHostsAsync(noRedirect, 2);

        using var status = JsonDocument.Parse(await noRedirect.GetStringAsync("/status/data"));
        Assert.Equal("/dashboard/", status.RootElement.GetProperty("dashboard_path").GetString());

        // The dashboard's own page loads its script from under the prefix and reads the counters.
        await using var context = await fixture.Chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var counters = page.WaitForResponseAsync(r => r.Url == new Uri(address, "/dashboard/DashboardCounters").ToString() && r.Status == 200);
        await page.GotoAsync(new Uri(address, "/status").ToString());
        await Expect(page.Locator("[data-role=dashboard-link]")).ToHaveAttributeAsync("href", "/dashboard/", new() { Timeout = 20_000 });
        await page.Locator("[data-role=dashboard-link]").ClickAsync();
        await counters.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(new Uri(address, "/dashboard/").ToString(), page.Url);
    }

    [Fact]
    public async Task InServeTheDashboardComesFromTheSilosServices()
    {
        var silo = fixture.Silos[0];
        var gateway = await fixture.StartGatewayAsync(silo.ServiceProvider.GetRequiredService<IClusterClient>(), _ => { });
        using var http = new HttpClient { BaseAddress = BrowserCluster.AddressOf(gateway) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dashboard/")).StatusCode);
        await AssertHostsAsync(http, 2);
    }

    [Fact]
    public async Task WithKeysTheDashboardNeedsOne()
    {
        using var http = new HttpClient { BaseAddress = BrowserCluster.AddressOf(fixture.Keyed) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/DashboardCounters")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", BrowserCluster.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dashboard/")).StatusCode);
        await AssertHostsAsync(http, 2);
    }

    [Fact]
    public async Task TheDashboardsLogStreamEndsWhenTheGatewayStops()
    {
        var gateway = await fixture.StartGatewayAsync(fixture.Cluster.Client, _ => { });
        using var http = new HttpClient { BaseAddress = BrowserCluster.AddressOf(gateway) };
        using var response = await http.GetAsync("/dashboard/Trace", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        // The stream would run for an hour; the host's shutdown timeout is 30 s.
        var clock = Stopwatch.StartNew();
        await gateway.StopAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"expected the gateway to stop at once with a dashboard log stream open; it took {clock.Elapsed.TotalSeconds:0.0} s");
        await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>The dashboard's counters come from a grain that gathers them every second: polled until they show the silos.</summary>
    private static async Task AssertHostsAsync(HttpClient http, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var last = -1;
        while (DateTime.UtcNow < deadline)
        {
            var response = await http.GetAsync("/dashboard/DashboardCounters");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var counters = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                last = counters.RootElement.GetProperty("totalActiveHostCount").GetInt32();
                if (last == expected) return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"expected the dashboard to count {expected} active silos within 30 s; it last counted {last}");
    }
}
