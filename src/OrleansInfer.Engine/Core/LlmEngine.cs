using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Engine.Telemetry;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// A continuous-batching engine over one model runner. One dedicated thread runs the step loop (the runner, and
/// a GPU context, are only ever driven from it); any number of callers submit from any thread and read their
/// own async stream of chunks. Submission validates at once: bad parameters raise
/// <see cref="InvalidRequestException"/>, a full queue or a stopping engine raises <see cref="RequestRejectedException"/>.
/// A failed step ends only its own requests (<see cref="EngineFaultException"/>); <see cref="Health"/> says whether
/// steps keep failing.
/// </summary>
public sealed class LlmEngine : IAsyncDisposable, IDisposable
{
    private readonly IModelRunner _runner;
    private readonly EngineCore _core;
    private readonly RequestValidator _validator;
    private readonly QueueBounds _bounds;
    private readonly IdleSignal _idle = new();
    private int _endedUnpublished; // engine thread only
    private readonly HealthMonitor _health;
    private readonly LoadPublisher _publisher;
    private readonly StepLoop _loop;
    private long _nextRequestId;

    /// <summary>Starts the engine thread over <paramref name="runner"/>, which the engine drives but does not dispose.</summary>
    /// <param name="runner">The backend; only the engine thread calls <see cref="IModelRunner.Execute"/>.</param>
    /// <param name="tokenizer">Detokenizes outputs and knows the end-of-generation tokens.</param>
    /// <param name="options">Scheduler limits, queue bounds, default seed and health threshold (validated here).</param>
    /// <param name="logger">Receives failed steps (Error) and failing observers (Warning); null logs nothing.</param>
    public LlmEngine(IModelRunner runner, Tokenizer tokenizer, EngineOptions? options = null, ILogger? logger = null)
    {
        options ??= new EngineOptions();
        logger ??= NullLogger.Instance;
        _runner = runner;
        Tokenizer = tokenizer;
        _core = new EngineCore(runner, tokenizer, options, logger);
        _bounds = new QueueBounds(options.Scheduler);
        MaxWaitingRequests = options.Scheduler.MaxWaitingRequests;
        _core.Scheduler.Admitted = r => _bounds.Release(r.QueuedTokens);
        _validator = new RequestValidator(runner, _core.MaxNumSeqs, _core.MaxNumBatchedTokens);
        _health = new HealthMonitor(options.MaxConsecutiveFailures);
        _publisher = new LoadPublisher(_core, runner.KvCache.BytesPerBlock, _health) { Published = SettleEnded };
        _core.Telemetry.Observe(_publisher);
        _loop = new StepLoop(_core, _publisher, _health, logger, stats => StepCompleted?.Invoke(stats));
        _loop.Start();
    }

    public Tokenizer Tokenizer { get; }

    public LlamaConfig Config => _runner.Config;

    public string DeviceName => _runner.DeviceName;

    public int MaxNumBatchedTokens => _core.MaxNumBatchedTokens;

    public int MaxNumSeqs => _core.MaxNumSeqs;

    /// <summary>Requests that may wait for admission before submissions are rejected.</summary>
    public int MaxWaitingRequests { get; }

    /// <summary>The KV pool as of the last step (safe to read from any thread).</summary>
    public KvCacheStats KvCache => _publisher.KvCache;

    /// <summary>The engine's load as of its last step (safe to read from any thread).</summary>
    public EngineLoad Load => _publisher.Load;

    /// <summary>Whether steps succeed (safe to read from any thread); also on <see cref="Load"/> as of the last step.</summary>
    public EngineHealth Health => _health.Current;

    /// <summary>The last step's statistics, or null before the first.</summary>
    public EngineStepStats? LastStep => _loop.LastStep;

    public long TotalPreemptions => _core.Scheduler.TotalPreemptions;

    /// <summary>
    /// The labels of the engine's metrics and spans (meter and source <see cref="EngineTelemetryNames.SourceName"/>). A host
    /// that learns the worker's identity after building the engine sets them then; a null device means the runner's.
    /// </summary>
    public TelemetryLabels TelemetryLabels
    {
        get => _core.Telemetry.Labels;
        set => _core.Telemetry.Labels = value with { Device = value.Device ?? DeviceName };
    }

    /// <summary>Raised on the engine thread after every successful step; handlers must be quick.</summary>
    public event Action<EngineStepStats>? StepCompleted;

    /// <summary>Called on the engine thread after a request's end was counted (test seam for the idle signal).</summary>
    internal Action? AfterRequestEnded { get; set; }

    /// <summary>
    /// Completes with true once the engine holds no request: every submitted stream has ended (false if cancelled
    /// first). Exact: a request whose <see cref="Submit"/> returned is never missed.
    /// </summary>
    public async Task<bool> WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _idle.WhenIdle.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Validates and queues a request; its chunks arrive on the returned stream.</summary>
    public RequestStream Submit(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_loop.IsStopping) throw ShuttingDown();
        _validator.Validate(request);
        var tokens = QueueBounds.TokensOf(request);
        _bounds.Reserve(tokens);
        var id = Interlocked.Increment(ref _nextRequestId);
        RequestState state;
        try
        {
            state = _core.CreateRequest(id, request, arrival: id);
        }
        catch
        {
            _bounds.Release(tokens);
            throw;
        }
        state.QueuedTokens = tokens;
        state.Completed = Ended;
        _core.Telemetry.Submitted(state);
        _idle.Begin();
        if (!_loop.TryEnqueue(state))
        {
            // The engine stopped after the check above: nothing will serve the request.
            _idle.End();
            _bounds.Release(tokens);
            var refused = ShuttingDown();
            EngineTelemetry.Discard(state, refused);
            throw refused;
        }
        return new RequestStream(this, state);
    }

    /// <summary>Streams a request's chunks (validation errors are thrown here, before the first chunk).</summary>
    public IAsyncEnumerable<GenerationChunk> StreamAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var stream = Submit(request);
        return Read(stream, cancellationToken);

        static async IAsyncEnumerable<GenerationChunk> Read(RequestStream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var chunk in stream.WithCancellation(ct).ConfigureAwait(false)) yield return chunk;
        }
    }

    /// <summary>Runs a request to completion.</summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        Submit(request).CollectAsync(cancellationToken);

    internal void Abort(RequestState state) => _loop.Abort(state);

    /// <summary>On the engine thread, once per request, however its stream ended.</summary>
    private void Ended(RequestState r)
    {
        if (r.LeaveQueue()) _bounds.Release(r.QueuedTokens);
        // Counted off only once the snapshots show it gone: whoever waited for idleness then reads the freed blocks.
        _endedUnpublished++;
        AfterRequestEnded?.Invoke();
    }

    /// <summary>Whether the idle signal is set now (tests look at it while they hold the engine thread).</summary>
    internal bool IsIdleNow => _idle.WhenIdle.IsCompleted;

    /// <summary>On the engine thread after each publication (and once more after the loop stopped).</summary>
    private void SettleEnded()
    {
        for (; _endedUnpublished > 0; _endedUnpublished--) _idle.End();
    }

    private static RequestRejectedException ShuttingDown() => new(RejectionReason.ShuttingDown, "the engine is shutting down");

    /// <summary>Stops the loop; requests still in flight end with <see cref="OperationCanceledException"/>. The runner is not disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _loop.StopAsync().ConfigureAwait(false);
        SettleEnded(); // the loop has ended: nothing else touches the count
        _core.Telemetry.Dispose(); // its gauges stop reporting this engine
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
