using OrleansInfer.Testing;
namespace OrleansInfer.Silo.Tests;

/// <summary>A redis-server of the test's own on a free port (a drill kills and restarts it; other tests keep theirs).</summary>
public sealed class PrivateRedis : IDisposable
{
    private readonly string _folder;
    private ChildProcess? _server;

    public PrivateRedis(string folder)
    {
        _folder = folder;
        Port = FreePorts.Next();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Starts the server (no persistence, as CI's: a restart loses everything) and waits until it answers.</summary>
    public async Task StartAsync()
    {
        _server = new ChildProcess($"redis-{Port}", "redis-server", ["--bind", "127.0.0.1", "--port", $"{Port}", "--save", "", "--appendonly", "no", "--dir", _folder]);
        await _server.WaitForLine(l => l.Contains("Ready to accept connections"), TimeSpan.FromSeconds(30), "redis-server to accept connections");
        RedisServer.Require(Address);
    }

    public void Kill()
    {
        _server?.Kill();
        _server?.Dispose();
        _server = null;
    }

    public void Dispose() => Kill();
}
