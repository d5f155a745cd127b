using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansInfer.Gateway.Tests.StatusPage;

/// <summary>The page itself: one document with its style and script inline, no data, open even when keys are required.</summary>
public sealed partial class StatusPageShellTests
{
    [Fact]
    public async Task ThePageIsOneSelfContainedDocumentAllowedByItsOwnPolicy()
    {
        var fake = StatusDataTests.TwoWorkers();
        var (app, http) = await fake.StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        var response = await http.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain(StatusDataTests.KeyA, html);
        Assert.DoesNotContain("<!--STYLE-->", html);
        Assert.DoesNotContain("<!--SCRIPT-->", html);
        // Nothing to fetch: no script or image source, no stylesheet or font, only the empty inline icon.
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("url(", html);
        Assert.Equal(["<link rel=\"icon\" href=\"data:,\">"], LinkElement().Matches(html).Select(m => m.Value));
        var script = Assert.Single(ScriptElement().Matches(html)).Groups[1].Value;
        var style = Assert.Single(StyleElement().Matches(html)).Groups[1].Value;
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(
            $"default-src 'none'; style-src 'sha256-{Hash(style)}'; script-src 'sha256-{Hash(script)}'; connect-src 'self'; img-src 'self' data:; " +
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            policy);
        Assert.DoesNotContain("innerHTML", script);
        Assert.DoesNotContain("insertAdjacentHTML", script);
    }

    [Fact]
    public async Task WithKeysThePageIsOpenAndItsDataIsNot()
    {
        var fake = StatusDataTests.TwoWorkers();
        var (app, http) = await fake.StartGatewayAsync(o => o.ApiKeys = ["page-key"]);
        await using var _ = app;
        using var __ = http;
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = http.BaseAddress };

        var root = await noRedirect.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/status", root.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/status")).StatusCode);
        foreach (var route in new[] { "/status/data", "/status/events" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(route, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
            using var wrong = new HttpRequestMessage(HttpMethod.Get, route) { Headers = { { "Authorization", "Bearer other-key" } } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
        }
        using var right = new HttpRequestMessage(HttpMethod.Get, "/status/data") { Headers = { { "Authorization", "Bearer page-key" } } };
        var data = await http.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        Assert.Contains(StatusDataTests.KeyA, await data.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WithoutDashboardServicesThereIsNoDashboard()
    {
        var (app, http) = await new OpenAi.FakeCluster().StartGatewayAsync();
        await using var _ = app;
        using var __ = http;
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/dashboard/")).StatusCode);
    }

    private static string Hash(string text) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptElement();

    [GeneratedRegex("<link[^>]*>")]
    private static partial Regex LinkElement();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleElement();
}
