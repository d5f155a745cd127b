namespace OrleansInfer.Grains.Workers;

/// <summary>
/// Placement tickets a worker received recently, repeated in every load report for a while (a report can be lost):
/// the router releases exactly the reservations they name and no other.
/// </summary>
internal sealed class TicketAcknowledgements(TimeSpan keepFor, int capacity = 1024)
{
    private readonly Queue<(long Ticket, DateTime At)> _recent = new();

    public void Add(long ticket, DateTime now)
    {
        if (ticket == 0) return;
        _recent.Enqueue((ticket, now));
        while (_recent.Count > capacity) _recent.Dequeue();
    }

    public long[] Recent(DateTime now)
    {
        while (_recent.Count > 0 && now - _recent.Peek().At > keepFor) _recent.Dequeue();
        return _recent.Select(r => r.Ticket).ToArray();
    }
}
