using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansInfer.Silo;

/// <summary>
/// Puts this silo back into a membership table that lost its data (a Redis server restarted without persistence):
/// Orleans writes a silo's row only when it joins, so without this the table stays empty, new clients find no
/// gateway and no silo can be declared dead. It remembers the silo's own row from each read; when the table is gone
/// it recreates it, inserts the row again (Active, fresh liveness) and raises the table version above the last one the
/// cluster saw, since Orleans ignores versions that go backwards. Each silo re-inserts itself.
/// </summary>
internal sealed class MembershipTableGuard(IMembershipTable table, ILocalSiloDetails silo, IClusterMembershipService membership, ILogger<MembershipTableGuard> logger)
    : BackgroundService
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);

    private MembershipEntry? _mine;
    private int _highestVersion;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckEvery);
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
        catch (Exception e) when (IsMissingTable(e))
        {
            await RepairAsync();
            return;
        }
        _highestVersion = Math.Max(_highestVersion, data.Version.Version);
        var row = data.TryGet(silo.SiloAddress);
        if (row is not null && row.Item1.Status == SiloStatus.Active) _mine = row.Item1;
        else if (row is null && _mine is not null && IsActiveHere()) await RepairAsync();
    }

    private async Task RepairAsync()
    {
        if (_mine is null || !IsActiveHere()) return;
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var data = await table.ReadAllAsync();
        if (data.TryGet(silo.SiloAddress) is null)
        {
            var entry = Fresh(_mine);
            if (!await table.InsertRowAsync(entry, data.Version.Next())) return; // another silo wrote meanwhile: next tick
            logger.LogWarning("the membership table had lost its data (its store restarted empty): silo {Silo} registered itself again", silo.SiloAddress);
            data = await table.ReadAllAsync();
        }
        var floor = Math.Max(_highestVersion, membership.CurrentSnapshot.Version.Value);
        while (data.Version.Version <= floor && data.TryGet(silo.SiloAddress) is { } row)
        {
            if (!await table.UpdateRowAsync(Fresh(row.Item1), row.Item2, data.Version.Next())) return;
            data = await table.ReadAllAsync();
        }
    }

    private bool IsActiveHere() => membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Active;

    private static MembershipEntry Fresh(MembershipEntry e) => new()
    {
        SiloAddress = e.SiloAddress,
        Status = SiloStatus.Active,
        SuspectTimes = [],
        StartTime = e.StartTime,
        IAmAliveTime = DateTime.UtcNow,
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
