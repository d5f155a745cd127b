using System.Net;
using System.Net.Sockets;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>A TCP port free on the loopback interface right now (for in-process clusters).</summary>
internal static class FreePorts
{
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
