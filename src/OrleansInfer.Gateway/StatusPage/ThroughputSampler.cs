using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// Samples every worker's tokens per second into the <see cref="ThroughputHistory"/> at a fixed interval, whether or
/// not a page is open: one router call per model every few seconds costs nothing, and the chart is full when someone
/// opens the page. A cluster that cannot be read leaves a gap (logged at debug: no warning storm while it is down).
/// </summary>
internal sealed class ThroughputSampler(IInferenceCluster cluster, ThroughputHistory history, StatusPageOptions options, ILogger<ThroughputSampler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SampleInterval, options.Time);
        try
        {
            do await SampleAsync(stoppingToken).ConfigureAwait(false);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes one sample.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ClusterReadTimeout);
            var workers = await cluster.GetWorkersAsync(null, timeout.Token).ConfigureAwait(false);
            var rates = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var w in workers) rates[w.WorkerKey] = w.TokensPerSecond;
            history.Add(options.Time.GetUtcNow(), rates);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug(e, "throughput sample failed");
        }
    }
}
