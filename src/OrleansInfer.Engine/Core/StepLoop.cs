using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// The engine thread: takes submitted and cancelled requests, steps the core while there is work and sleeps when
/// there is none, tracks health, and on stop ends every request and sends the runner its last releases. The runner
/// (and a GPU context) is only ever driven from this thread.
/// </summary>
internal sealed class StepLoop
{
    private readonly EngineCore _core;
    private readonly LoadPublisher _publisher;
    private readonly HealthMonitor _health;
    private readonly ILogger _logger;
    private readonly Action<EngineStepStats> _stepCompleted;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<RequestState> _incoming = new();
    private readonly ConcurrentQueue<RequestState> _aborts = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _admission = new();
    private bool _closed;
    private volatile bool _stopping;
    private volatile EngineStepStats? _lastStep;

    public StepLoop(EngineCore core, LoadPublisher publisher, HealthMonitor health, ILogger logger, Action<EngineStepStats> stepCompleted)
    {
        _core = core;
        _publisher = publisher;
        _health = health;
        _logger = logger;
        _stepCompleted = stepCompleted;
        _thread = new Thread(Run) { IsBackground = true, Name = "engine-loop" };
    }

    public bool IsStopping => _stopping;

    public EngineStepStats? LastStep => _lastStep;

    public void Start() => _thread.Start();

    /// <summary>Hands a request to the loop; false once the loop has closed for good (nothing would serve it).</summary>
    public bool TryEnqueue(RequestState request)
    {
        // Ordered against the close in Shutdown: a request enqueued before it is ended there, none gets in after.
        lock (_admission)
        {
            if (_closed) return false;
            _incoming.Enqueue(request);
        }
        Wake();
        return true;
    }

    /// <summary>Drops a request at the next step (after a stop every request has already ended).</summary>
    public void Abort(RequestState request)
    {
        if (_stopping) return;
        _aborts.Enqueue(request);
        Wake();
    }

    /// <summary>Stops the loop after the step under way; completes once every request has ended.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        Wake();
        await _stopped.Task.ConfigureAwait(false);
        _wake.Dispose();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // The engine stopped meanwhile: there is no loop left to wake.
        }
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                while (_incoming.TryDequeue(out var r)) _core.Enqueue(r);
                while (_aborts.TryDequeue(out var r)) _core.Abort(r);

                var (stats, retry) = RunStep();
                _publisher.Publish(stats);
                if (stats is not null)
                {
                    Report(stats);
                    continue;
                }
                // A failed step ended its own requests: the others go on at once.
                if (retry && _core.HasRequests) continue;
                if (_incoming.IsEmpty && _aborts.IsEmpty) _wake.Wait();
            }
        }
        finally
        {
            Shutdown();
        }
    }

    /// <summary>One step; retry is true after a contained failure (the next step can make progress).</summary>
    private (EngineStepStats? Stats, bool Retry) RunStep()
    {
        try
        {
            var stats = _core.Step();
            if (stats is { ScheduledTokens: > 0 }) _health.Succeeded();
            return (stats, false);
        }
        catch (EngineFaultException e)
        {
            // The core logged it and ended the requests concerned.
            _health.Failed(e.Message);
            return (null, true);
        }
        catch (Exception e)
        {
            // Outside the runner and postprocessing (a scheduling bug): nothing was contained, so wait for new work
            // instead of failing the same way in a tight loop.
            _logger.LogError(e, "Engine step failed");
            _health.Failed($"the step failed: {e.Message}");
            return (null, false);
        }
    }

    private void Report(EngineStepStats stats)
    {
        _lastStep = stats;
        try
        {
            _stepCompleted(stats);
        }
        catch (Exception e)
        {
            // A failing observer must not stop the engine.
            _logger.LogWarning(e, "A StepCompleted handler failed");
        }
    }

    private void Shutdown()
    {
        try
        {
            lock (_admission) _closed = true;
            var error = new OperationCanceledException("the engine stopped");
            while (_incoming.TryDequeue(out var r)) _core.Enqueue(r);
            foreach (var r in _core.Scheduler.Running.Concat(_core.Scheduler.Waiting).ToList()) _core.Abort(r, error);
            // Send the releases of everything that ended (just before the stop, or by it), so the runner, which outlives
            // the engine, holds no block table of a dead sequence; the snapshot then shows all blocks free.
            while (_core.HasWork && _core.Step() is not null)
            {
            }
            _publisher.Publish(null);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "The engine did not stop cleanly; the runner may still hold block tables of ended sequences");
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }
}
