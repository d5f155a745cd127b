using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansInfer.Abstractions;
using OrleansInfer.Grains.Mapping;
using OrleansInfer.Grains.Placement;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// The front of one accelerator's engine, pinned to its silo: it relays requests' chunks (<see cref="StreamRelay"/>),
/// reports load and health to the router (<see cref="LoadReporter"/>; the silo asks every report period, which also
/// re-activates a worker Orleans deactivated) and hands requests off when the router rebalances or the silo drains
/// (<see cref="RequestMover"/>). Its state lives in <see cref="LocalWorkers"/>, so a new activation goes on where the
/// last one stopped. Reentrant: every stream waits on the engine, which runs on its own thread, so calls interleave;
/// state changes happen between awaits only, without locks.
/// </summary>
[WorkerPlacement]
[Reentrant]
public sealed class WorkerGrain(IWorkerEngines engines, LocalWorkers local, TimeProvider time, ILogger<WorkerGrain> logger) : Grain, IWorkerGrain, IWorkerControl
{
    private WorkerState _state = null!;
    private StreamRelay _relay = null!;
    private LoadReporter _reporter = null!;
    private RequestMover _mover = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var (_, device, modelId) = WorkerKeys.Parse(key);
        if (modelId != engines.ModelId) throw new InvalidOperationException($"worker {key}: this silo serves model '{engines.ModelId}', not '{modelId}'");
        _state = local.For(key, () => new WorkerState(key, modelId, device, engines.Get(device)));
        _relay = new StreamRelay(_state, time);
        _reporter = new LoadReporter(_state, engines, GrainFactory, time, logger);
        _mover = new RequestMover(_state, GrainFactory, _reporter.ReportAsync, logger);
        return Task.CompletedTask;
    }

    public IAsyncEnumerable<TokenChunk> Generate(GenerateRequest request, CancellationToken cancellationToken = default) => _relay.Run(request, cancellationToken);

    public Task<WorkerLoad> GetLoad() => Task.FromResult(_reporter.Snapshot());

    public Task<VocabularyData> GetVocabulary() => Task.FromResult(VocabularyMapping.ToWire(_state.Engine.Tokenizer.Vocabulary));

    public Task Start() => Task.CompletedTask;

    public Task ReportNow() => _reporter.ReportAsync();

    public Task<int> MoveWaiting(string targetWorker, int maxCount) => Task.FromResult(_mover.MoveWaiting(targetWorker, maxCount));

    public Task<bool> MoveRequest(string requestId, string targetWorker) => Task.FromResult(_mover.MoveRequest(requestId, targetWorker));

    public Task<int> Drain(TimeSpan timeout) => _mover.DrainAsync(timeout);

    public Task<bool> WaitForIdle(TimeSpan timeout) => _mover.WaitForIdle(timeout);
}
