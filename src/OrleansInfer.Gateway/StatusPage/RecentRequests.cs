namespace OrleansInfer.Gateway.StatusPage;

/// <summary>A finished request as the status page lists it (times in seconds; null where it never produced a token).</summary>
public sealed record RequestRecord(
    DateTimeOffset Finished,
    string Model,
    string Operation,
    int PromptTokens,
    int OutputTokens,
    double? TimeToFirstTokenSeconds,
    double? TimePerOutputTokenSeconds,
    double DurationSeconds,
    string? FinishReason,
    string? ErrorType);

/// <summary>The latest finished requests, newest first (thread-safe, bounded).</summary>
public sealed class RecentRequests(int capacity = 100)
{
    private readonly Queue<RequestRecord> _records = new();
    private readonly Lock _lock = new();

    public void Add(RequestRecord record)
    {
        lock (_lock)
        {
            _records.Enqueue(record);
            while (_records.Count > capacity) _records.Dequeue();
        }
    }

    public IReadOnlyList<RequestRecord> Snapshot()
    {
        lock (_lock) return _records.Reverse().ToArray();
    }
}
