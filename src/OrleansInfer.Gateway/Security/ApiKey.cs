namespace OrleansInfer.Gateway.Security;

/// <summary>An API key and its optional requests-per-minute limit ("KEY" or "KEY:N").</summary>
public sealed record ApiKey(string Key, int? RequestsPerMinute)
{
    public static bool TryParse(string text, out ApiKey key)
    {
        key = new ApiKey("", null);
        text = text.Trim();
        var colon = text.LastIndexOf(':');
        int? limit = null;
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            if (n < 1) return false;
            limit = n;
            text = text[..colon];
        }
        if (text.Length == 0 || text.Any(char.IsWhiteSpace)) return false;
        key = new ApiKey(text, limit);
        return true;
    }
}
