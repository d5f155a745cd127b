using Microsoft.Extensions.Logging;
using OrleansInfer.Grains.Workers;

namespace OrleansInfer.Silo;

/// <summary>
/// Asks each local worker for a load report every report period. Driven by the silo rather than by a grain timer, so
/// a worker activation Orleans deactivated (its directory entry lived on a silo that died, memory pressure) is
/// activated again within one period and its router keeps hearing from it. Each call is bounded; a slow router never
/// stops the loop.
/// </summary>
internal sealed class WorkerReportLoop(IGrainFactory grains, IReadOnlyList<string> keys, ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Start() => _loop = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(LoadReporter.ReportPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await Task.WhenAll(keys.Select(ReportAsync));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task ReportAsync(string key)
    {
        try
        {
            await grains.GetGrain<IWorkerControl>(key).ReportNow().WaitAsync(CallTimeout, _stop.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogDebug(e, "report of {Worker} failed", key);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }
}
