using Microsoft.Playwright;

namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET: <c>/usr/bin/chromium</c> (or <c>ORLEANSINFER_CHROMIUM</c>),
/// headless, never a browser Playwright would download.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string DefaultPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        var path = Environment.GetEnvironmentVariable("ORLEANSINFER_CHROMIUM") is { Length: > 0 } p ? p : DefaultPath;
        if (!File.Exists(path))
            throw new InvalidOperationException(
                $"Chromium is not installed at {path}: install Debian's chromium package (apt-get install chromium; .ci/run installs it), " +
                "or point ORLEANSINFER_CHROMIUM at a Chromium binary. Playwright's own browser download is not used.");
        // Belt and braces: nothing here may fetch a browser.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
