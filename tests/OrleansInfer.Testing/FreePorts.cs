using System.Net;
using System.Net.Sockets;

namespace OrleansInfer.Testing;

/// <summary>A TCP port free on the loopback interface a moment ago (for the servers and silos tests start).</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>A port not handed out before by this process: the system may offer a just-released port again.</summary>
    public static int Next()
    {
        while (true)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Given)
            {
                if (Given.Add(port)) return port;
            }
        }
    }
}
