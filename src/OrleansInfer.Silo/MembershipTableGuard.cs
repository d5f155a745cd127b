using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansInfer.Silo;

/// <summary>
/// Puts this silo back into a membership table that lost its data (a Redis server restarted without persistence).
/// Orleans writes a silo's row only when it joins, so without this the table stays empty: new clients find no gateway
/// and no silo can be declared dead. The guard remembers its silo's row from each read; when the table or the row is
/// gone it recreates the table and inserts the row again (Active, fresh liveness). Orleans ignores a table whose
/// version went backwards, and a silo that reads a table without itself at a newer version takes itself for dead; so
/// the version is raised above the last one the cluster saw only once every silo that was active before is back (or
/// after <see cref="WaitForPeers"/>, when one did not come back).
/// </summary>
internal sealed class MembershipTableGuard(IMembershipTable table, ILocalSiloDetails silo, IClusterMembershipService membership, TimeProvider time,
    ILogger<MembershipTableGuard> logger) : BackgroundService
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>How long a repair waits for the other silos to register again before raising the version without them.</summary>
    public static readonly TimeSpan WaitForPeers = TimeSpan.FromSeconds(30);

    private MembershipEntry? _mine;
    private int _highestVersion;
    private Repair? _repair;

    private sealed record Repair(DateTimeOffset Since, SiloAddress[] Peers, int Floor);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckEvery, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The membership store is down: Orleans keeps its last view meanwhile; try again at the next tick.
                logger.LogDebug(e, "membership table check failed");
            }
        }
    }

    private async Task CheckAsync()
    {
        MembershipTableData data;
        try
        {
            data = await table.ReadAllAsync();
        }
        catch (Exception e) when (IsMissingTable(e) && _mine is not null)
        {
            _repair ??= StartRepair();
            await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
            data = await table.ReadAllAsync();
        }

        var row = data.TryGet(silo.SiloAddress);
        if (_repair is null)
        {
            _highestVersion = Math.Max(_highestVersion, data.Version.Version);
            if (row is not null && row.Item1.Status == SiloStatus.Active) _mine = row.Item1;
            if (row is not null || _mine is null || !IsActiveHere()) return;
            _repair = StartRepair(); // the table is there, but without this silo: another one recreated it
        }
        await RepairAsync(data, row);
    }

    private Repair StartRepair()
    {
        var snapshot = membership.CurrentSnapshot; // the view from before the loss: refreshes have failed since
        var peers = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToArray();
        return new Repair(time.GetUtcNow(), peers, Math.Max(_highestVersion, (int)snapshot.Version.Value));
    }

    private async Task RepairAsync(MembershipTableData data, Tuple<MembershipEntry, string>? row)
    {
        var repair = _repair!;
        if (row is null)
        {
            if (!await table.InsertRowAsync(Fresh(_mine!), data.Version.Next())) return; // another silo wrote meanwhile: next tick
            logger.LogWarning("the membership table had lost its data (its store restarted empty): silo {Silo} registered itself again", silo.SiloAddress);
            data = await table.ReadAllAsync();
        }

        var missing = repair.Peers.Where(p => data.TryGet(p) is null).ToList();
        if (missing.Count > 0 && time.GetUtcNow() - repair.Since < WaitForPeers) return;
        while (data.Version.Version <= repair.Floor && data.TryGet(silo.SiloAddress) is { } mine)
        {
            if (!await table.UpdateRowAsync(Fresh(mine.Item1), mine.Item2, data.Version.Next())) return;
            data = await table.ReadAllAsync();
        }
        if (missing.Count > 0) logger.LogWarning("membership table repaired without {Missing}: they did not register again within {Wait}", string.Join(", ", missing), WaitForPeers);
        _highestVersion = Math.Max(_highestVersion, data.Version.Version);
        _repair = null;
    }

    private bool IsActiveHere() => membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Active;

    private MembershipEntry Fresh(MembershipEntry e) => new()
    {
        SiloAddress = e.SiloAddress,
        Status = SiloStatus.Active,
        SuspectTimes = [],
        StartTime = e.StartTime,
        IAmAliveTime = time.GetUtcNow().UtcDateTime,
        HostName = e.HostName,
        SiloName = e.SiloName,
        RoleName = e.RoleName,
        ProxyPort = e.ProxyPort,
        UpdateZone = e.UpdateZone,
        FaultZone = e.FaultZone,
    };

    /// <summary>The Redis provider's error for a table whose version row is gone (expired, deleted, or a store that restarted empty).</summary>
    private static bool IsMissingTable(Exception e) => e.Message.Contains("version is missing", StringComparison.OrdinalIgnoreCase);
}
