using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>Assembles <see cref="StatusData"/>: the workers read now, the sampled throughput, the recent requests.</summary>
internal sealed class StatusDataSource(IInferenceCluster cluster, ThroughputHistory history, RecentRequests recent, StatusPageOptions options, DashboardMapping dashboard)
{
    public async Task<StatusData> ReadAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<WorkerLoad> loads = [];
        string? error = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ClusterReadTimeout);
            loads = await cluster.GetWorkersAsync(null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            error = e is OperationCanceledException ? $"the cluster did not answer within {options.ClusterReadTimeout.TotalSeconds:0.#} s" : e.Message;
        }

        var series = history.Read();
        var workers = loads
            .Select(w => ToStatus(w, series.Workers.TryGetValue(w.WorkerKey, out var h) ? h : new double?[series.Times.Count]))
            .OrderBy(w => w.Silo, StringComparer.Ordinal).ThenBy(w => w.Key, StringComparer.Ordinal)
            .ToArray();
        var silos = workers.GroupBy(w => w.Silo, StringComparer.Ordinal)
            .Select(g => new SiloStatus(g.Key, g.Count(), g.Sum(w => w.Running), g.Sum(w => w.Waiting), g.Sum(w => w.TokensPerSecond)))
            .ToArray();
        return new StatusData(
            options.Time.GetUtcNow(),
            StatusEndpoints.Version,
            error,
            dashboard.Path,
            new StatusTotals(silos.Length, workers.Length, workers.Sum(w => w.Running), workers.Sum(w => w.Waiting), workers.Sum(w => w.TokensPerSecond)),
            silos,
            workers,
            new ThroughputStatus(options.SampleInterval.TotalSeconds, history.Window.TotalSeconds, [.. series.Times.Select(t => t.ToUnixTimeMilliseconds())], series.Total),
            [.. recent.Snapshot().Select(ToStatus)]);
    }

    private static WorkerStatus ToStatus(WorkerLoad w, double?[] history) => new(
        w.WorkerKey, SiloOf(w.WorkerKey), w.Device, w.ModelId, w.BlockSize, w.TotalBlocks, w.FreeBlocks, w.TotalBlocks - w.FreeBlocks,
        w.CachedBlocks, w.RunningRequests, w.WaitingRequests, w.TokensPerSecond, w.Healthy, w.HealthReason, w.Draining, history);

    private static RequestStatus ToStatus(RequestRecord r) => new(
        r.Finished, r.Model, r.Operation, r.PromptTokens, r.OutputTokens, Ms(r.TimeToFirstTokenSeconds), Ms(r.TimePerOutputTokenSeconds),
        Ms(r.DurationSeconds)!.Value, r.FinishReason, r.ErrorType);

    private static double? Ms(double? seconds) => seconds is { } s ? Math.Round(s * 1000, 1) : null;

    /// <summary>The silo part of a worker key (silo|device|model); empty for a key of another shape.</summary>
    private static string SiloOf(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return bar > 0 ? key[..bar] : "";
    }
}
