using System.Security.Cryptography;
using System.Text;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// The page: status.html with status.css and status.js (embedded resources) inlined, one self-contained document
/// with no data in it. Its Content-Security-Policy allows exactly that inline style and script (by hash) and
/// connections to this origin: nothing else loads, even if a worker key or model name carried markup.
/// </summary>
internal static class StatusPageShell
{
    private static readonly Lazy<(string Html, string Policy)> Page = new(Compose);

    public static IResult Write(HttpContext context)
    {
        var (html, policy) = Page.Value;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = policy;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static (string, string) Compose()
    {
        var css = Resource("status.css");
        var js = Resource("status.js");
        var html = Resource("status.html")
            .Replace("<!--STYLE-->", $"<style>{css}</style>", StringComparison.Ordinal)
            .Replace("<!--SCRIPT-->", $"<script>{js}</script>", StringComparison.Ordinal);
        var policy = $"default-src 'none'; style-src '{Hash(css)}'; script-src '{Hash(js)}'; connect-src 'self'; img-src 'self' data:; " +
                     "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (html, policy);
    }

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Resource(string name)
    {
        using var stream = typeof(StatusPageShell).Assembly.GetManifestResourceStream($"OrleansInfer.Gateway.StatusPage.{name}")
            ?? throw new InvalidOperationException($"embedded resource StatusPage/{name} is missing from the gateway assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
