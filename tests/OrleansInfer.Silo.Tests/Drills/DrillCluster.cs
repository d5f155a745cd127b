using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// Real `orleans-infer silo` processes clustered through Redis, plus an Orleans client in the test process to look at
/// the cluster (where the router runs, membership, each worker's free KV). Every wait is bounded and says what it
/// expected.
/// </summary>
public sealed class DrillCluster : IAsyncDisposable
{
    public const string ModelId = "stories260K";

    private readonly List<ChildProcess> _processes = [];
    private IHost? _client;

    public DrillCluster(string redis, int stepDelayMs)
    {
        Redis = redis;
        StepDelayMs = stepDelayMs;
    }

    public string Redis { get; }

    public int StepDelayMs { get; }

    public string ClusterId { get; } = $"drill-{Guid.NewGuid():N}";

    public string Address => $"redis://{Redis}/{ClusterId}";

    public List<DrillSilo> Silos { get; } = [];

    public IClusterClient Client => ClusterEndpoint.Client(_client ?? throw new InvalidOperationException("not connected"));

    public ChildProcess Start(string name, params string[] args)
    {
        var p = new ChildProcess(name, args);
        _processes.Add(p);
        return p;
    }

    /// <summary>Starts <paramref name="count"/> silos, waits for each to be ready, and connects the test's client.</summary>
    public async Task StartAsync(int count)
    {
        var starting = new List<(ChildProcess Process, int SiloPort)>();
        for (var i = 0; i < count; i++)
        {
            int siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
            starting.Add((Start($"silo-{(char)('a' + i)}", "silo", "--model", SharedData.Stories260KGguf, "--clustering", "redis", "--redis", Redis, "--cluster-id", ClusterId,
                "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--threads", "1", "--step-delay-ms", $"{StepDelayMs}"), siloPort));
        }
        foreach (var (process, port) in starting)
        {
            await process.WaitForLine(ChildProcess.IsReadyLine, TimeSpan.FromSeconds(120), "a line containing 'ready'");
            var worker = (await process.WaitForLine(l => l.TrimStart().StartsWith("worker ", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "its worker key")).Trim()["worker ".Length..];
            Silos.Add(new DrillSilo(process, port, worker));
        }
        _client = await ClusterEndpoint.Parse(Address).ConnectAsync();
        var router = Client.GetGrain<IRouterGrain>(ModelId);
        if (!await router.WaitForWorkers(count, TimeSpan.FromSeconds(60)))
            throw new TimeoutException($"expected {count} workers to report to the router within 60 s; it sees {(await router.GetWorkers()).Length}");
    }

    /// <summary>The silo hosting the model's router.</summary>
    public async Task<DrillSilo> RouterHostAsync()
    {
        var status = await Client.GetGrain<IRouterGrain>(ModelId).GetStatus().WaitAsync(TimeSpan.FromSeconds(30));
        return Silos.Single(s => s.Address == status.Silo);
    }

    /// <summary>Waits until the cluster's membership says <paramref name="silo"/> is dead.</summary>
    public async Task WaitUntilDeclaredDeadAsync(DrillSilo silo, TimeSpan timeout)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + timeout;
        var last = "not asked yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var hosts = await management.GetHosts().WaitAsync(TimeSpan.FromSeconds(5));
                var status = hosts.FirstOrDefault(h => h.Key.ToParsableString() == silo.Address);
                if (status.Value == SiloStatus.Dead) return;
                last = $"{silo.Address} is {status.Value}";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"expected the cluster to declare {silo.Process.Name} ({silo.Address}) dead within {timeout.TotalSeconds} s; last: {last}");
    }

    /// <summary>
    /// Waits until every live worker's KV blocks are all free again (none held by a finished or abandoned request), asking
    /// through <paramref name="through"/> (default: the drill's client).
    /// </summary>
    public async Task AssertFreeKvReturnsAsync(IEnumerable<DrillSilo> live, TimeSpan timeout, IGrainFactory? through = null)
    {
        var grains = through ?? Client;
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        foreach (var silo in live)
        {
            while (true)
            {
                try
                {
                    var load = await grains.GetGrain<IWorkerGrain>(silo.Worker).GetLoad().WaitAsync(TimeSpan.FromSeconds(10));
                    if (load.FreeBlocks == load.TotalBlocks && load.RunningRequests == 0 && load.WaitingRequests == 0) break;
                    last = $"{silo.Process.Name}: {load.FreeBlocks}/{load.TotalBlocks} blocks free, {load.RunningRequests} running, {load.WaitingRequests} waiting";
                }
                catch (Exception e) when (e is TimeoutException or OrleansException)
                {
                    last = $"{silo.Process.Name}: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"expected every live worker's KV to be free again within {timeout.TotalSeconds} s; {last}\n{DescribeSilos()}");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>The last output lines of every silo (for failure messages).</summary>
    public string DescribeSilos(int lines = 15) => string.Join("\n", Silos.Select(s => $"--- {s.Process.Name} ({s.Address}):\n{string.Join('\n', s.Process.Lines.TakeLast(lines))}"));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException)
            {
                // The cluster may already be gone.
            }
            _client.Dispose();
        }
        foreach (var p in _processes) p.Dispose();
    }
}

/// <summary>One silo process of a drill, its silo port, its worker's key and its silo address.</summary>
public sealed record DrillSilo(ChildProcess Process, int SiloPort, string Worker)
{
    public string Address => WorkerKeys.Parse(Worker).Silo;
}
