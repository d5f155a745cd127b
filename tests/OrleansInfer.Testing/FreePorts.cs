using System.Net;
using System.Net.Sockets;

namespace OrleansInfer.Testing;

/// <summary>A TCP port free on the loopback interface a moment ago (for the servers and silos tests start).</summary>
public static class FreePorts
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
