using Orleans.Runtime;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>The router's picture of one worker: its last report, when it came, and placements it has not yet acknowledged.</summary>
public sealed class WorkerView
{
    private readonly List<(long Ticket, int Blocks, DateTime At)> _reservations = [];

    public WorkerView(WorkerLoad load, DateTime receivedAt)
    {
        Load = load;
        ReceivedAt = receivedAt;
        Silo = SiloOf(load.WorkerKey);
    }

    /// <summary>The silo a worker key names; null when it names none (tests that play workers by hand).</summary>
    public static SiloAddress? SiloOf(string workerKey)
    {
        try
        {
            return SiloAddress.FromParsableString(WorkerKeys.Parse(workerKey).Silo);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public WorkerLoad Load { get; private set; }

    public DateTime ReceivedAt { get; private set; }

    public string Key => Load.WorkerKey;

    /// <summary>The silo the worker lives on (null when its key names none: tests that play workers).</summary>
    public SiloAddress? Silo { get; }

    /// <summary>Blocks promised to placements the worker has not acknowledged yet.</summary>
    public int ReservedBlocks => _reservations.Sum(r => r.Blocks);

    public int InFlight => _reservations.Count;

    /// <summary>Free KV after the waiting prompts and the in-flight placements take theirs.</summary>
    public int EffectiveFreeBlocks => Load.FreeBlocks - Load.QueuedBlocks - ReservedBlocks;

    public int Queue => Load.WaitingRequests + InFlight;

    /// <summary>Takes a newer report: releases exactly the reservations whose tickets it acknowledges, and expired ones.</summary>
    public void Update(WorkerLoad load, DateTime now, TimeSpan reservationLifetime)
    {
        if (load.Sequence != 0 && load.Sequence < Load.Sequence) return; // reports can overtake each other
        Load = load;
        ReceivedAt = now;
        var acknowledged = load.AcknowledgedTickets;
        _reservations.RemoveAll(r => Array.IndexOf(acknowledged, r.Ticket) >= 0 || now - r.At > reservationLifetime);
    }

    public void Reserve(long ticket, int blocks, DateTime now) => _reservations.Add((ticket, blocks, now));

    /// <summary>Blocks a request needs here: the longest it can grow, each extra output with its own tail.</summary>
    public int BlocksNeeded(PlacementRequest r)
    {
        var bs = Math.Max(1, Load.BlockSize);
        // Resumed tokens are part of max_tokens: the longest output is the prompt plus max_tokens either way.
        var longest = (int)Math.Min((long)r.PromptTokens.Length + r.MaxTokens, Math.Max(1, Load.ContextLength));
        var total = (longest + bs - 1) / bs;
        var shared = r.PromptTokens.Length / bs;
        return shared + Math.Max(1, r.Width) * (total - shared);
    }
}
