using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansInfer.Abstractions;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Grains.Placement;

namespace OrleansInfer.Grains.Workers;

/// <summary>
/// The front of one accelerator's engine: it converts wire requests to engine requests, relays each request's
/// chunks, reports load to the router, and hands requests off (rebalancing, drain). Reentrant: every stream
/// waits on the engine, which runs on its own thread, so calls interleave freely; state changes happen
/// between awaits only.
/// </summary>
[WorkerPlacement]
[Reentrant]
public sealed class WorkerGrain(IWorkerEngines engines, ILogger<WorkerGrain> logger) : Grain, IWorkerGrain
{
    public static readonly TimeSpan ReportPeriod = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);

    /// <summary>A stream with no new tokens for this long gets an empty chunk (see <see cref="ClusterGeneration.SilenceLimit"/>).</summary>
    public static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, ActiveRequest> _active = new();
    private LlmEngine _engine = null!;
    private IRouterGrain _router = null!;
    private string _key = "";
    private int _device;
    private IGrainTimer? _timer;
    private long _lastTicket;
    private long _reportSequence;
    private bool _draining;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        var (_, device, modelId) = WorkerKeys.Parse(_key);
        if (modelId != engines.ModelId) throw new InvalidOperationException($"worker {_key}: this silo serves model '{engines.ModelId}', not '{modelId}'");
        _device = device;
        _engine = engines.Get(device);
        _router = GrainFactory.GetGrain<IRouterGrain>(modelId);
        return Task.CompletedTask;
    }

    public Task Start()
    {
        // The periodic report also keeps the worker alive (it must not be collected while idle).
        _timer ??= this.RegisterGrainTimer(static (self, _) => self.ReportNow(), this,
            new GrainTimerCreationOptions(TimeSpan.Zero, ReportPeriod) { Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<TokenChunk> Generate(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_draining) throw new ClusterRejectedException(ClusterRejection.NoCapacity, $"worker {_key} is draining");
        if (request.PlacementTicket > _lastTicket) _lastTicket = request.PlacementTicket;
        var active = new ActiveRequest(request, Submit(request));
        if (!_active.TryAdd(request.RequestId, active))
        {
            active.Stream.Cancel();
            throw new ClusterRejectedException(ClusterRejection.InvalidRequest, $"request {request.RequestId} is already running on {_key}");
        }

        var chunks = active.Stream.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                // While the engine has nothing new (queued, or a long prefill) the caller still hears from us:
                // a heartbeat each period tells it this worker is alive, so a silent one can be given up quickly.
                var next = chunks.MoveNextAsync().AsTask();
                while (!await CompletesWithin(next, HeartbeatPeriod, cancellationToken)) yield return new TokenChunk { Worker = _key };

                GenerationChunk chunk;
                try
                {
                    if (!await next) break;
                    chunk = chunks.Current;
                }
                catch (OperationCanceledException) when (active.MoveTarget is not null && !cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                active.Record(chunk);
                yield return WireMapping.ToWire(chunk, _key);
            }
            if (active.MoveTarget is { } target) yield return new TokenChunk { MovedTo = target, Worker = _key };
        }
        finally
        {
            _active.TryRemove(request.RequestId, out _);
            await chunks.DisposeAsync(); // cancels the engine request if the caller went away early
        }
    }

    /// <summary>True when <paramref name="task"/> ended (in any state) within <paramref name="period"/>.</summary>
    private static async Task<bool> CompletesWithin(Task task, TimeSpan period, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(period, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception) when (task.IsCompleted)
        {
            // Its outcome is read by the caller.
        }
        return true;
    }

    private RequestStream Submit(GenerateRequest request)
    {
        try
        {
            return _engine.Submit(WireMapping.ToEngine(request));
        }
        catch (InvalidRequestException e)
        {
            throw new ClusterRejectedException(ClusterRejection.InvalidRequest, e.Message);
        }
        catch (RequestRejectedException e)
        {
            throw new ClusterRejectedException(ClusterRejection.NoCapacity, $"worker {_key}: {e.Message}");
        }
    }

    public Task<WorkerLoad> GetLoad()
    {
        var load = _engine.Load;
        var kv = load.KvCache;
        return Task.FromResult(new WorkerLoad
        {
            WorkerKey = _key,
            ModelId = engines.ModelId,
            Device = engines.Describe(_device),
            BlockSize = kv.BlockSize,
            TotalBlocks = kv.TotalBlocks,
            FreeBlocks = kv.FreeBlocks,
            CachedBlocks = kv.CachedBlocks,
            BytesPerBlock = kv.BytesPerBlock,
            RunningRequests = load.RunningRequests,
            WaitingRequests = load.WaitingRequests,
            QueuedBlocks = load.WaitingBlocks,
            MaxQueue = _engine.MaxWaitingRequests,
            TokensPerSecond = load.TokensPerSecond,
            PrefixHashes = load.PrefixHashes,
            LastTicket = _lastTicket,
            Draining = _draining,
            ContextLength = _engine.Config.ContextLength,
            Sequence = ++_reportSequence,
        });
    }

    public async Task ReportNow()
    {
        try
        {
            // Bounded: a router on a dead silo must not stall reports for Orleans' 30 s response timeout (the timer
            // waits for its callback), or the router's next activation would not hear from this worker in time.
            await _router.ReportLoad(await GetLoad()).WaitAsync(ReportTimeout);
            // Cheap and idempotent: keeps the catalog right after its activation moved or its silo died.
            await GrainFactory.GetGrain<IModelCatalogGrain>(0).Register(engines.ModelId).WaitAsync(ReportTimeout);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The router may be re-activating after a failure; the next report will reach it.
            logger.LogDebug(e, "load report of {Worker} failed", _key);
        }
    }

    public Task<int> MoveWaiting(string targetWorker, int maxCount)
    {
        if (targetWorker == _key) return Task.FromResult(0);
        var waiting = _engine.Load.WaitingRequestIds;
        var moved = 0;
        foreach (var a in _active.Values)
        {
            if (moved >= maxCount) break;
            if (waiting.Contains(a.Stream.RequestId) && a.MoveTo(targetWorker)) moved++;
        }
        if (moved > 0) logger.LogInformation("{Worker} moved {Count} waiting request(s) to {Target}", _key, moved, targetWorker);
        return Task.FromResult(moved);
    }

    public Task<SequenceState?> Export(string requestId, string targetWorker)
    {
        if (!_active.TryGetValue(requestId, out var a) || !a.Request.Sampling.CanResume) return Task.FromResult<SequenceState?>(null);
        var state = a.Export();
        return Task.FromResult(a.MoveTo(targetWorker) ? state : null);
    }

    public async Task<int> Drain(TimeSpan timeout)
    {
        _draining = true;
        await ReportNow();
        var moved = await MoveElsewhere(waitingOnly: true);
        if (!await WaitForIdle(timeout)) moved += await MoveElsewhere(waitingOnly: false);
        logger.LogInformation("{Worker} drained: {Moved} request(s) moved, {Left} still running", _key, moved, _active.Count);
        return moved;
    }

    /// <summary>Places requests of this worker on others through the router and hands them off.</summary>
    private async Task<int> MoveElsewhere(bool waitingOnly)
    {
        var waiting = _engine.Load.WaitingRequestIds;
        var moved = 0;
        foreach (var a in _active.Values.ToList())
        {
            if (waitingOnly && !waiting.Contains(a.Stream.RequestId)) continue;
            if (!a.Request.Sampling.CanResume) continue;
            try
            {
                var state = a.Export();
                var placement = await _router.Place(new PlacementRequest
                {
                    PromptTokens = state.PromptTokens,
                    MaxTokens = state.Sampling.MaxTokens,
                    ResumedTokens = state.GeneratedTokens.Length,
                    Exclude = [_key],
                });
                if (a.MoveTo(placement.WorkerKey)) moved++;
            }
            catch (ClusterRejectedException)
            {
                // Nowhere to go: it stays and runs here.
            }
        }
        return moved;
    }

    public Task<VocabularyData> GetVocabulary() => Task.FromResult(VocabularyMapping.ToWire(_engine.Tokenizer.Vocabulary));

    public async Task<bool> WaitForIdle(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await _engine.WhenIdleAsync(cts.Token);
    }
}
