using System.Security.Cryptography;
using System.Text;

namespace OrleansInfer.Gateway.Security;

/// <summary>The keys the gateway accepts (from the options and the key file), checked in constant time.</summary>
public sealed class ApiKeys
{
    private readonly (byte[] Hash, ApiKey Key)[] _keys;

    public ApiKeys(IEnumerable<ApiKey> keys)
    {
        _keys = keys.Select(k => (Hash(k.Key), k)).ToArray();
    }

    public bool Required => _keys.Length > 0;

    public static ApiKeys From(GatewayOptions options)
    {
        var keys = new List<ApiKey>();
        foreach (var text in options.ApiKeys)
            keys.Add(ApiKey.TryParse(text, out var k) ? k : throw new GatewayConfigurationException($"{GatewayOptions.Section}:ApiKeys", "each must be KEY or KEY:REQUESTS_PER_MINUTE"));
        if (options.ApiKeyFile is { } file)
        {
            var line = 0;
            foreach (var raw in File.ReadLines(file))
            {
                line++;
                var text = raw.Split('#')[0].Trim();
                if (text.Length == 0) continue;
                keys.Add(ApiKey.TryParse(text, out var k) ? k : throw new GatewayConfigurationException($"{GatewayOptions.Section}:ApiKeyFile", $"{file}:{line}: expected KEY or KEY:REQUESTS_PER_MINUTE"));
            }
        }
        return new ApiKeys(keys);
    }

    /// <summary>The key matching <paramref name="presented"/>, comparing fixed-size hashes in constant time against every key.</summary>
    public ApiKey? Find(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return null;
        var hash = Hash(presented);
        ApiKey? found = null;
        foreach (var (h, key) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(h, hash)) found = key;
        }
        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
