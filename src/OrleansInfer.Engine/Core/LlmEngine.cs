using System.Collections.Concurrent;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// A continuous-batching engine over one model runner. One dedicated thread runs the step loop (the runner, and
/// a GPU context, are only ever driven from it); any number of callers submit from any thread and read their
/// own async stream of chunks. Submission validates at once: bad parameters raise
/// <see cref="InvalidRequestException"/>, a full queue raises <see cref="RequestRejectedException"/>.
/// </summary>
public sealed class LlmEngine : IAsyncDisposable, IDisposable
{
    private readonly EngineCore _core;
    private readonly IModelRunner _runner;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<RequestState> _incoming = new();
    private readonly ConcurrentQueue<RequestState> _aborts = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SchedulerOptions _limits;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private long _nextRequestId;
    private int _queuedRequests;
    private long _queuedTokens;
    private volatile EngineStepStats? _lastStep;
    private volatile KvCacheStats _kv;
    private volatile EngineLoad _load;
    private readonly object _idleLock = new();
    private TaskCompletionSource _idle = NewIdleSignal(completed: true);
    private ulong[] _prefixHashes = [];
    private long _prefixHashesAt;
    private double _tokensPerSecond;
    private long _lastStepTicks;

    public LlmEngine(IModelRunner runner, Tokenizer tokenizer, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        _runner = runner;
        _limits = options.Scheduler;
        Tokenizer = tokenizer;
        _core = new EngineCore(runner, tokenizer, options);
        _core.Scheduler.Admitted = LeftQueue;
        _kv = Snapshot();
        _load = LoadSnapshot();
        _thread = new Thread(Loop) { IsBackground = true, Name = "engine-loop" };
        _thread.Start();
    }

    public Tokenizer Tokenizer { get; }

    public LlamaConfig Config => _runner.Config;

    public string DeviceName => _runner.DeviceName;

    public int MaxNumBatchedTokens => _core.MaxNumBatchedTokens;

    public int MaxNumSeqs => _core.MaxNumSeqs;

    /// <summary>Requests that may wait for admission before submissions are rejected.</summary>
    public int MaxWaitingRequests => _limits.MaxWaitingRequests;

    /// <summary>The KV pool as of the last step (safe to read from any thread).</summary>
    public KvCacheStats KvCache => _kv;

    /// <summary>The engine's load as of its last step (safe to read from any thread).</summary>
    public EngineLoad Load => _load;

    /// <summary>Completes with true once the engine holds no request (false if cancelled first).</summary>
    public async Task<bool> WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        Task idle;
        lock (_idleLock) idle = _idle.Task;
        try
        {
            await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The last step's statistics, or null before the first.</summary>
    public EngineStepStats? LastStep => _lastStep;

    public long TotalPreemptions => _core.Scheduler.TotalPreemptions;

    /// <summary>Raised on the engine thread after every step; handlers must be quick.</summary>
    public event Action<EngineStepStats>? StepCompleted;

    /// <summary>Validates and queues a request; its chunks arrive on the returned stream.</summary>
    public RequestStream Submit(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_stopping) throw new RequestRejectedException(RejectionReason.ShuttingDown, "the engine is shutting down");
        Validate(request);

        var tokens = request.PromptTokens.Length + request.ResumeTokens.Length;
        if (Interlocked.Increment(ref _queuedRequests) > _limits.MaxWaitingRequests)
        {
            Interlocked.Decrement(ref _queuedRequests);
            throw new RequestRejectedException(RejectionReason.QueueFull, $"the waiting queue is full ({_limits.MaxWaitingRequests} requests); retry later");
        }
        if (Interlocked.Add(ref _queuedTokens, tokens) > _limits.MaxQueuedTokens)
        {
            Interlocked.Add(ref _queuedTokens, -tokens);
            Interlocked.Decrement(ref _queuedRequests);
            throw new RequestRejectedException(RejectionReason.QueuedTokensFull, $"the waiting queue holds its maximum of {_limits.MaxQueuedTokens} prompt tokens; retry later");
        }

        var id = Interlocked.Increment(ref _nextRequestId);
        var state = _core.CreateRequest(id, request, arrival: id);
        lock (_idleLock)
        {
            if (_idle.Task.IsCompleted) _idle = NewIdleSignal(completed: false);
        }
        _incoming.Enqueue(state);
        Wake();
        // Submitted while the loop was finishing: nothing will serve it, so end its stream now.
        if (_stopped.Task.IsCompleted) state.Output.Writer.TryComplete(new OperationCanceledException("the engine stopped"));
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

    internal void Abort(RequestState state)
    {
        // After a stop every request has already been ended; a stream disposed later (its enumerator cancels in its
        // finally block) must not fail on the disposed semaphore, which used to replace the stream's own exception.
        if (_stopping) return;
        _aborts.Enqueue(state);
        Wake();
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

    private void Validate(GenerationRequest request)
    {
        var c = _runner.Config;
        var p = request.Sampling.Validate(c.VocabSize);
        var prompt = request.PromptTokens;
        if (prompt.Length == 0) throw new InvalidRequestException("prompt", "the prompt has no tokens");
        foreach (var t in prompt)
        {
            if ((uint)t >= (uint)c.VocabSize) throw new InvalidRequestException("prompt", $"token id {t} is outside the vocabulary of {c.VocabSize}");
        }
        if (prompt.Length >= c.ContextLength)
            throw new InvalidRequestException("prompt", $"{prompt.Length} prompt tokens leave no room in the model's context of {c.ContextLength}");
        if (p.IsBeamSearch && p.Stop.Count > 0) throw new InvalidRequestException("stop", "stop strings do not combine with beam search");
        if (request.ResumeTokens.Length > 0)
        {
            if (p.Width != 1) throw new InvalidRequestException("resume_tokens", "only single-output requests (no n, best_of or beams) can be resumed");
            foreach (var t in request.ResumeTokens)
            {
                if ((uint)t >= (uint)c.VocabSize) throw new InvalidRequestException("resume_tokens", $"token id {t} is outside the vocabulary of {c.VocabSize}");
            }
            if (prompt.Length + request.ResumeTokens.Length >= c.ContextLength)
                throw new InvalidRequestException("resume_tokens", $"{prompt.Length} prompt and {request.ResumeTokens.Length} generated tokens leave no room in the context of {c.ContextLength}");
            if (request.ResumeTokens.Length >= p.MaxTokens) throw new InvalidRequestException("resume_tokens", $"{request.ResumeTokens.Length} tokens were already generated of max_tokens {p.MaxTokens}");
        }
        // All beams advance in the same step: a width beyond the step's limits could never be scheduled (it waited forever).
        if (p.IsBeamSearch && (p.BeamWidth > _core.MaxNumSeqs || p.BeamWidth > _core.MaxNumBatchedTokens))
            throw new InvalidRequestException("beam_width", $"{p.BeamWidth} beams advance together, but a step carries at most {_core.MaxNumSeqs} sequences and {_core.MaxNumBatchedTokens} tokens");

        // The prompt's full blocks are shared by all of the request's sequences; each grows its own tail.
        var kv = _runner.KvCache;
        var longest = (int)Math.Min((long)prompt.Length + p.MaxTokens, c.ContextLength);
        var shared = prompt.Length / kv.BlockSize;
        var perSequence = (longest + kv.BlockSize - 1) / kv.BlockSize - shared;
        var needed = shared + (long)p.Width * perSequence;
        if (needed > kv.BlockCount)
            throw new InvalidRequestException("max_tokens", $"{prompt.Length} prompt tokens plus {p.MaxTokens} new tokens x {p.Width} output(s) need {needed} KV blocks; the pool has {kv.BlockCount}");
    }

    private void LeftQueue(RequestState r)
    {
        Interlocked.Decrement(ref _queuedRequests);
        Interlocked.Add(ref _queuedTokens, -(r.Prompt.Length + r.Live.Sum(s => s.OutputLength)));
    }

    private void Loop()
    {
        try
        {
            while (!_stopping)
            {
                while (_incoming.TryDequeue(out var r)) _core.Enqueue(r);
                while (_aborts.TryDequeue(out var r))
                {
                    if (r.CountsAgainstQueue && !r.Aborted)
                    {
                        r.CountsAgainstQueue = false;
                        LeftQueue(r);
                    }
                    _core.Abort(r);
                }

                EngineStepStats? stats;
                try
                {
                    stats = _core.Step();
                }
                catch (Exception)
                {
                    // EngineCore already failed the requests of the step; keep serving the rest.
                    stats = null;
                }

                if (stats is null)
                {
                    Publish(null);
                    if (_incoming.IsEmpty && _aborts.IsEmpty) _wake.Wait();
                    continue;
                }
                _lastStep = stats;
                Publish(stats);
                try
                {
                    StepCompleted?.Invoke(stats);
                }
                catch (Exception)
                {
                    // A failing observer must not stop the engine.
                }
            }
        }
        finally
        {
            FailEverything();
            // Send the releases of everything that ended (just before the stop, or by it), so the runner, which
            // outlives the engine, holds no block table of a dead sequence; the snapshot then shows all blocks free.
            try
            {
                while (_core.HasWork && _core.Step() is not null)
                {
                }
            }
            catch (Exception)
            {
                // A failing runner cannot be told more.
            }
            _kv = Snapshot();
            _stopped.TrySetResult();
        }
    }

    private void FailEverything()
    {
        var error = new OperationCanceledException("the engine stopped");
        while (_incoming.TryDequeue(out var r)) _core.Enqueue(r);
        foreach (var r in _core.Scheduler.Running.Concat(_core.Scheduler.Waiting).ToList()) _core.Abort(r, error);
    }

    /// <summary>Publishes the KV and load snapshots; signals idleness when nothing is left.</summary>
    private void Publish(EngineStepStats? step)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (step is not null)
        {
            // Throughput over recent steps (exponential average of tokens per second).
            var seconds = _lastStepTicks == 0 ? step.StepMilliseconds / 1000 : (now - _lastStepTicks) / (double)System.Diagnostics.Stopwatch.Frequency;
            var rate = seconds > 0 ? step.ScheduledTokens / seconds : 0;
            _tokensPerSecond = _tokensPerSecond == 0 ? rate : 0.9 * _tokensPerSecond + 0.1 * rate;
        }
        _lastStepTicks = step is null ? 0 : now;
        _kv = Snapshot();
        _load = LoadSnapshot();
        if (_load.IsIdle && _incoming.IsEmpty)
        {
            _tokensPerSecond = 0;
            lock (_idleLock) _idle.TrySetResult();
        }
    }

    private EngineLoad LoadSnapshot()
    {
        var now = Environment.TickCount64;
        if (now - _prefixHashesAt >= 250)
        {
            _prefixHashes = _core.Blocks.PrefixHashes(4096);
            _prefixHashesAt = now;
        }
        var waiting = _core.Scheduler.Waiting;
        var waitingBlocks = 0;
        var ids = new HashSet<long>();
        foreach (var r in waiting)
        {
            ids.Add(r.Id);
            foreach (var s in r.Live) waitingBlocks += _core.Blocks.BlocksFor(s.Tokens.Count);
        }
        return new EngineLoad(_kv, _core.Scheduler.Running.Count, waiting.Count, waitingBlocks, _tokensPerSecond, _prefixHashes, ids);
    }

    private static TaskCompletionSource NewIdleSignal(bool completed)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed) tcs.SetResult();
        return tcs;
    }

    private KvCacheStats Snapshot() =>
        new(_core.Blocks.BlockSize, _core.Blocks.BlockCount, _core.Blocks.FreeBlocks, _core.Blocks.CachedBlocks, _runner.KvCache.BytesPerBlock);

    /// <summary>Stops the loop; requests still in flight end with <see cref="OperationCanceledException"/>. The runner is not disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        Wake(); // tolerant of a second dispose
        await _stopped.Task.ConfigureAwait(false);
        _wake.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
