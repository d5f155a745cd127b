using System.Net;
using System.Net.Sockets;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>A TCP port free on the loopback interface right now (for in-process clusters and `serve`'s private silo ports).</summary>
internal static class FreePorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>Where the system's ephemeral ports start (Linux' ip_local_port_range; 32768 when it can't be read).</summary>
    private static readonly int EphemeralLow = ReadEphemeralLow();

    /// <summary>The lowest port handed out: above the well-known and most registered service ports.</summary>
    private const int Floor = 20000;

    /// <summary>
    /// A port free now, not handed out before by this process and not one of <paramref name="taken"/> (ports the caller
    /// will bind itself or just chose). It is chosen below the system's ephemeral range: a port taken from that range
    /// and released is what any process's next outgoing connection or bind to port 0 may be given before the server
    /// that was meant to bind it does (seen as "address already in use" when a silo started).
    /// </summary>
    public static int Next(params int[] taken)
    {
        for (var attempt = 0; attempt < 1000 && EphemeralLow - Floor >= 1000; attempt++)
        {
            var port = Random.Shared.Next(Floor, EphemeralLow);
            if (taken.Contains(port) || !IsFree(port)) continue;
            lock (Given)
            {
                if (Given.Add(port)) return port;
            }
        }
        // No room below the ephemeral range: ask the system for one.
        while (true)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Given)
            {
                if (!taken.Contains(port) && Given.Add(port)) return port;
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int ReadEphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
