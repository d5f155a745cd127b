using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>What /status/data answers and /status/events pushes (snake_case JSON; times ISO 8601 UTC, sample times in Unix milliseconds).</summary>
internal sealed record StatusData(
    DateTimeOffset GeneratedAt,
    string Version,
    string? ClusterError,
    string? DashboardPath,
    StatusTotals Totals,
    IReadOnlyList<SiloStatus> Silos,
    IReadOnlyList<WorkerStatus> Workers,
    ThroughputStatus Throughput,
    IReadOnlyList<RequestStatus> RecentRequests);

/// <summary>The cluster as a whole.</summary>
internal sealed record StatusTotals(int Silos, int Workers, int Running, int Waiting, double TokensPerSecond);

/// <summary>A silo, as the workers it hosts show it.</summary>
internal sealed record SiloStatus(string Address, int Workers, int Running, int Waiting, double TokensPerSecond);

/// <summary>A worker as its router last saw it; <see cref="TokensPerSecondHistory"/> is aligned with <see cref="ThroughputStatus.Times"/>.</summary>
internal sealed record WorkerStatus(
    string Key,
    string Silo,
    string Device,
    string Model,
    int KvBlockSize,
    int KvTotalBlocks,
    int KvFreeBlocks,
    int KvUsedBlocks,
    int KvCachedBlocks,
    int Running,
    int Waiting,
    double TokensPerSecond,
    bool Healthy,
    string? HealthReason,
    bool Draining,
    IReadOnlyList<double?> TokensPerSecondHistory);

/// <summary>The cluster's tokens per second at each sample time (Unix milliseconds).</summary>
internal sealed record ThroughputStatus(double IntervalSeconds, double WindowSeconds, IReadOnlyList<long> Times, IReadOnlyList<double> Total);

/// <summary>A finished request (milliseconds rounded to 0.1).</summary>
internal sealed record RequestStatus(
    DateTimeOffset Finished,
    string Model,
    string Operation,
    int PromptTokens,
    int OutputTokens,
    double? TtftMs,
    double? TpotMs,
    double DurationMs,
    string? FinishReason,
    string? ErrorType);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StatusData))]
internal sealed partial class StatusJsonContext : JsonSerializerContext
{
    /// <summary>Compact JSON on one line (an SSE data line); the page renders every string as text.</summary>
    public static string Serialize(StatusData data) => JsonSerializer.Serialize(data, Default.StatusData);
}
