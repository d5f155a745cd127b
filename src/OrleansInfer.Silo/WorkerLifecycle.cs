using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Routing;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Silo.Http;

namespace OrleansInfer.Silo;

/// <summary>Completes once every local worker accepts work (the host then prints its "ready" line).</summary>
public sealed class SiloReady
{
    private readonly TaskCompletionSource<string[]> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The keys of the started workers.</summary>
    public Task<string[]> Workers => _ready.Task;

    internal void Set(string[] workers) => _ready.TrySetResult(workers);

    internal void Fail(Exception e) => _ready.TrySetException(e);
}

/// <summary>
/// Starts one worker grain per local accelerator when the silo becomes active (pinned here by its key) and their
/// report loop (<see cref="WorkerReportLoop"/>); when the silo stops (SIGTERM, Ctrl+C, pod termination), drains them:
/// no new requests, waiting ones moved to other workers, running ones finished within the drain timeout or moved.
/// </summary>
internal sealed class WorkerLifecycle(IWorkerEngines engines, IGrainFactory grains, ILocalSiloDetails silo, SiloOptions options, SiloReady ready, SiloReadiness readiness, ILogger<WorkerLifecycle> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private string[] _keys = [];
    private WorkerReportLoop? _reports;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WorkerLifecycle), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var address = silo.SiloAddress.ToParsableString();
            _keys = engines.Devices.Select(d => WorkerKeys.Format(address, d, engines.ModelId)).ToArray();
            foreach (var key in _keys)
            {
                var worker = grains.GetGrain<IWorkerControl>(key);
                await worker.Start();
                await worker.ReportNow();
            }
            _reports = new WorkerReportLoop(grains, _keys, logger);
            _reports.Start();
            ready.Set(_keys);
        }
        catch (Exception e)
        {
            ready.Fail(e);
            throw;
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        // /ready says draining from here until the host has stopped.
        readiness.BeginDraining();
        try
        {
            await DrainAsync(cancellationToken);
        }
        finally
        {
            if (_reports is not null) await _reports.DisposeAsync();
        }
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        // A forced stop (its token already cancelled) is treated like a crash: no drain; callers recover elsewhere.
        if (_keys.Length == 0 || cancellationToken.IsCancellationRequested) return;
        logger.LogInformation("draining {Count} worker(s) (timeout {Timeout})", _keys.Length, options.DrainTimeout);
        var drains = _keys.Select(async key =>
        {
            try
            {
                await grains.GetGrain<IWorkerControl>(key).Drain(options.DrainTimeout);
                await grains.GetGrain<IRouterControl>(engines.ModelId).Forget(key);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "draining {Worker} failed", key);
            }
        });
        await Task.WhenAll(drains);
    }
}
