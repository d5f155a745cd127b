using Microsoft.Playwright;

namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>Script errors, console errors and failed responses of a page (a page that throws or misses a resource must fail its test).</summary>
internal static class PageErrors
{
    /// <param name="page">The page to watch.</param>
    /// <param name="ignoreUnauthorized">401s are expected where the test sends no key or a wrong one (Chromium logs each as a console error).</param>
    public static List<string> Collect(IPage page, bool ignoreUnauthorized = false)
    {
        var errors = new List<string>();
        void Add(string error)
        {
            lock (errors) errors.Add(error);
        }
        page.PageError += (_, e) => Add("page error: " + e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error" && !(ignoreUnauthorized && m.Text.Contains("401 (Unauthorized)", StringComparison.Ordinal)))
                Add($"console error: {m.Text} ({m.Location})");
        };
        page.Response += (_, r) =>
        {
            if (r.Status >= 400 && !(ignoreUnauthorized && r.Status == 401)) Add($"HTTP {r.Status}: {r.Url}");
        };
        return errors;
    }
}
