using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Routing;

/// <summary>The router's picture of one worker: its last report, when it came, and placements it has not yet acknowledged.</summary>
public sealed class WorkerView(WorkerLoad load, DateTime receivedAt)
{
    /// <summary>How long an unacknowledged placement holds its blocks (its caller may never arrive).</summary>
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromSeconds(2);

    private readonly List<(long Ticket, int Blocks, DateTime At)> _reservations = [];

    public WorkerLoad Load { get; private set; } = load;

    public DateTime ReceivedAt { get; private set; } = receivedAt;

    public string Key => Load.WorkerKey;

    /// <summary>Blocks promised to placements the worker has not reported yet.</summary>
    public int ReservedBlocks => _reservations.Sum(r => r.Blocks);

    public int InFlight => _reservations.Count;

    /// <summary>Free KV after the waiting prompts and the in-flight placements take theirs.</summary>
    public int EffectiveFreeBlocks => Load.FreeBlocks - Load.QueuedBlocks - ReservedBlocks;

    public int Queue => Load.WaitingRequests + InFlight;

    public void Update(WorkerLoad load, DateTime now)
    {
        if (load.Sequence != 0 && load.Sequence < Load.Sequence) return; // reports can overtake each other
        Load = load;
        ReceivedAt = now;
        _reservations.RemoveAll(r => (r.Ticket > 0 && r.Ticket <= load.LastTicket) || now - r.At > ReservationLifetime);
    }

    public void Reserve(long ticket, int blocks, DateTime now) => _reservations.Add((ticket, blocks, now));

    /// <summary>Blocks a request needs here: the longest it can grow, each extra output with its own tail.</summary>
    public int BlocksNeeded(PlacementRequest r)
    {
        var bs = Math.Max(1, Load.BlockSize);
        var longest = (int)Math.Min((long)r.PromptTokens.Length + r.ResumedTokens + r.MaxTokens, Math.Max(1, Load.ContextLength));
        var total = (longest + bs - 1) / bs;
        var shared = r.PromptTokens.Length / bs;
        return shared + Math.Max(1, r.Width) * (total - shared);
    }
}
