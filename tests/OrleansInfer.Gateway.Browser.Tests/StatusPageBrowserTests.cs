using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OrleansInfer.Gateway.StatusPage;
using OrleansInfer.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>The status page in headless Chromium against the two-silo cluster.</summary>
[Collection(nameof(BrowserClusterCollection))]
public sealed class StatusPageBrowserTests(BrowserCluster fixture, ITestOutputHelper output)
{
    /// <summary>The page refreshes every second; the workers report every 250 ms.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 20_000 };

    [Fact]
    public async Task ThePageShowsBothWorkersAndTheirNumbersFollowARunningRequest()
    {
        var clock = Stopwatch.StartNew();
        var silos = fixture.Silos;
        var keys = silos.Select(BrowserCluster.WorkerKeyOf).ToArray();
        await using var context = await fixture.Chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1500, Height = 950 } });
        var page = await context.NewPageAsync();
        var errors = PageErrors.Collect(page);

        await page.GotoAsync(new Uri(BrowserCluster.AddressOf(fixture.Open), "/").ToString());
        Assert.Equal(new Uri(BrowserCluster.AddressOf(fixture.Open), "/status").ToString(), page.Url);
        var rows = page.Locator("[data-role=workers] tbody tr[data-worker]");
        await Expect(rows).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.getAttribute('data-worker'))")).Order(StringComparer.Ordinal));
        for (var i = 0; i < 2; i++)
        {
            var row = Row(page, keys[i]);
            await Expect(row.Locator("[data-field=key]")).ToHaveTextAsync(keys[i]);
            await Expect(row.Locator("[data-field=silo]")).ToHaveTextAsync(silos[i].SiloAddress.ToParsableString());
            await Expect(row.Locator("[data-field=model]")).ToHaveTextAsync(BrowserCluster.ModelId);
            await Expect(row.Locator("[data-field=device]")).ToHaveTextAsync(BrowserCluster.EngineOf(silos[i]).DeviceName);
            await Expect(row.Locator("[data-field=kv-total]")).ToHaveTextAsync("64");
            await Expect(row.Locator("[data-field=kv-used]")).ToHaveTextAsync("0", Soon);
            await Expect(row.Locator("[data-field=running]")).ToHaveTextAsync("0", Soon);
            await Expect(row.Locator("[data-field=waiting]")).ToHaveTextAsync("0");
            await Expect(row.Locator("[data-field=state]")).ToHaveTextAsync("healthy");
        }
        await Expect(page.Locator("[data-total=silos]")).ToHaveTextAsync("2");
        await Expect(page.Locator("[data-role=silos] tbody tr[data-silo]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-role=connection]")).ToHaveTextAsync("live");
        output.WriteLine($"page showed both workers idle after {clock.Elapsed.TotalSeconds:0.0} s");

        // Both engines are held after their next step: the request's first step (prefill) leaves it running with
        // its prompt in the KV cache, whichever worker the router picks.
        using var http = new HttpClient { BaseAddress = BrowserCluster.AddressOf(fixture.Open) };
        var holds = silos.Select(s => new EngineHold(BrowserCluster.EngineOf(s))).ToArray();
        Task<HttpResponseMessage> request;
        int busy;
        try
        {
            request = http.PostAsJsonAsync("/v1/completions", new { model = BrowserCluster.ModelId, prompt = "Once upon a time", max_tokens = 12, temperature = 0, ignore_eos = true });
            var held = await Task.WhenAny(holds.Select(h => h.Held)).WaitAsync(TimeSpan.FromSeconds(60));
            busy = Array.FindIndex(holds, h => h.Held == held);
            var kv = BrowserCluster.EngineOf(silos[busy]).Load.KvCache;
            var used = kv.TotalBlocks - kv.FreeBlocks;
            Assert.True(used > 0, "expected the running request to hold KV blocks");

            var row = Row(page, keys[busy]);
            await Expect(row.Locator("[data-field=running]")).ToHaveTextAsync("1", Soon);
            await Expect(row.Locator("[data-field=kv-used]")).ToHaveTextAsync(used.ToString(CultureInfo.InvariantCulture), Soon);
            await Expect(Row(page, keys[1 - busy]).Locator("[data-field=running]")).ToHaveTextAsync("0");
            await Expect(page.Locator("[data-total=running]")).ToHaveTextAsync("1", Soon);
            await Expect(page.Locator($"[data-silo=\"{silos[busy].SiloAddress.ToParsableString()}\"] [data-field=running]")).ToHaveTextAsync("1", Soon);

            var screenshot = Artifacts.PathOf("status-page.png");
            await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
            output.WriteLine($"screenshot: {screenshot}");
            Console.WriteLine($"status page screenshot: {screenshot}");
        }
        finally
        {
            foreach (var hold in holds) hold.Dispose();
        }

        using var response = await request.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var idle = Row(page, keys[busy]);
        await Expect(idle.Locator("[data-field=running]")).ToHaveTextAsync("0", Soon);
        await Expect(idle.Locator("[data-field=kv-used]")).ToHaveTextAsync("0", Soon);
        await Expect(page.Locator("[data-total=running]")).ToHaveTextAsync("0", Soon);

        // The gateway's telemetry recorded the request: it is the newest row of the recent requests (the collection's
        // tests run one at a time).
        var usage = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");
        var newest = page.Locator("[data-role=requests] tbody tr[data-request]").First;
        await Expect(newest.Locator("[data-field=operation]")).ToHaveTextAsync("text_completion", Soon);
        await Expect(newest.Locator("[data-field=model]")).ToHaveTextAsync(BrowserCluster.ModelId);
        await Expect(newest.Locator("[data-field=prompt-tokens]")).ToHaveTextAsync(usage.GetProperty("prompt_tokens").GetInt32().ToString(CultureInfo.InvariantCulture));
        await Expect(newest.Locator("[data-field=output-tokens]")).ToHaveTextAsync("12");
        await Expect(newest.Locator("[data-field=finish]")).ToHaveTextAsync("length");
        await Expect(newest.Locator("[data-field=ttft-ms]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d$"));
        await Expect(newest.Locator("[data-field=tpot-ms]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d$"));
        Assert.Empty(errors);
        output.WriteLine($"browser test took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task RecentRequestsAreListedAsText()
    {
        // What the gateway's telemetry records for every finished request; a model name with markup must stay text.
        var model = "<img src=x onerror=\"document.title='injected'\">" + Guid.NewGuid().ToString("N");
        var finished = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
        fixture.Open.Services.GetRequiredService<RecentRequests>().Add(new RequestRecord(finished, model, "chat", 7, 3, 0.01234, 0.00456, 0.25, null, "timeout"));
        await using var context = await fixture.Chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = PageErrors.Collect(page);
        await page.GotoAsync(new Uri(BrowserCluster.AddressOf(fixture.Open), "/status").ToString());

        var row = page.Locator("[data-role=requests] tbody tr[data-request]").Filter(new() { HasText = model });
        await Expect(row).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Expect(row.Locator("[data-field=model]")).ToHaveTextAsync(model);
        await Expect(row.Locator("[data-field=operation]")).ToHaveTextAsync("chat");
        await Expect(row.Locator("[data-field=prompt-tokens]")).ToHaveTextAsync("7");
        await Expect(row.Locator("[data-field=output-tokens]")).ToHaveTextAsync("3");
        await Expect(row.Locator("[data-field=ttft-ms]")).ToHaveTextAsync("12.3");
        await Expect(row.Locator("[data-field=tpot-ms]")).ToHaveTextAsync("4.6");
        await Expect(row.Locator("[data-field=duration-ms]")).ToHaveTextAsync("250.0");
        await Expect(row.Locator("[data-field=finish]")).ToHaveTextAsync("error: timeout");
        await Expect(row.Locator("[data-field=finished] time")).ToHaveAttributeAsync("datetime", "2026-03-04T05:06:07+00:00");
        await Expect(page.Locator("[data-role=requests] img")).ToHaveCountAsync(0);
        Assert.Equal("OrleansInfer status", await page.TitleAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task WithAKeyThePageAsksForItAndWorksOnceGiven()
    {
        var address = BrowserCluster.AddressOf(fixture.Keyed);
        using var http = new HttpClient { BaseAddress = address };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/status/data")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/status/events", HttpCompletionOption.ResponseHeadersRead)).StatusCode);

        await using var context = await fixture.Chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = PageErrors.Collect(page, ignoreUnauthorized: true);
        await page.GotoAsync(new Uri(address, "/status").ToString());
        await Expect(page.Locator("[data-role=key-form]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-role=content]")).ToBeHiddenAsync();
        await Expect(page.Locator("[data-role=connection]")).ToHaveTextAsync("key");

        await page.Locator("[data-field=api-key]").FillAsync("not-the-key");
        await page.Locator("[data-role=key-submit]").ClickAsync();
        await Expect(page.Locator("[data-role=key-message]")).ToHaveTextAsync("invalid API key", Soon);
        await Expect(page.Locator("[data-role=content]")).ToBeHiddenAsync();

        await page.Locator("[data-field=api-key]").FillAsync(BrowserCluster.ApiKey);
        await page.Locator("[data-role=key-submit]").ClickAsync();
        await Expect(page.Locator("[data-role=workers] tbody tr[data-worker]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-role=key-form]")).ToBeHiddenAsync();
        await Expect(page.Locator("[data-role=connection]")).ToHaveTextAsync("live", Soon);
        Assert.Equal(BrowserCluster.ApiKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('orleansinfer.apiKey')"));

        // The key lasts for the tab's session: a reload connects without asking.
        await page.ReloadAsync();
        await Expect(page.Locator("[data-role=workers] tbody tr[data-worker]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-role=key-form]")).ToBeHiddenAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task WhenTheEventStreamFailsThePagePollsTheData()
    {
        await using var context = await fixture.Chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        // A proxy that breaks streaming: every request for the event stream fails.
        await page.RouteAsync("**/status/events", route => route.AbortAsync());
        await page.GotoAsync(new Uri(BrowserCluster.AddressOf(fixture.Open), "/status").ToString());
        await Expect(page.Locator("[data-role=workers] tbody tr[data-worker]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-role=connection]")).ToHaveTextAsync("polling");
        var polled = page.WaitForResponseAsync(r => r.Url.EndsWith("/status/data", StringComparison.Ordinal) && r.Status == 200);
        await polled.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private static ILocator Row(IPage page, string key) => page.Locator($"[data-role=workers] tbody tr[data-worker=\"{key}\"]");
}
