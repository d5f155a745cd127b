using System.Net.Sockets;

namespace OrleansInfer.Silo.Tests;

/// <summary>The Redis server multi-process tests use: $ORLEANSINFER_REDIS or 127.0.0.1:6379 (.ci/run starts one).</summary>
public static class RedisServer
{
    public static string Address => Environment.GetEnvironmentVariable("ORLEANSINFER_REDIS") is { Length: > 0 } a ? a : "127.0.0.1:6379";

    /// <summary>Fails with a message saying how to get a server when none answers.</summary>
    public static void Require() => Require(Address);

    /// <summary>Fails with a message saying how to get a server when none answers at <paramref name="address"/>.</summary>
    public static void Require(string address)
    {
        var parts = address.Split(':');
        try
        {
            using var client = new TcpClient();
            client.Connect(parts[0], int.Parse(parts[1]));
            using var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var n = stream.Read(buffer);
            if (!System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal))
                throw new InvalidOperationException($"{address} did not answer PING with PONG");
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
        {
            throw new InvalidOperationException($"this test needs a Redis server at {address} (set ORLEANSINFER_REDIS, or run redis-server; .ci/run starts one): {e.Message}", e);
        }
    }

}
