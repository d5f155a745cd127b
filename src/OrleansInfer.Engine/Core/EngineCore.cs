using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Engine.Telemetry;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// The single-threaded heart of an engine, nano-vllm style: <see cref="Step"/> is Schedule() →
/// runner.Execute(batch) → Postprocess(). Postprocessing commits the computed blocks to the prefix cache, then per
/// request samples (<see cref="SamplingStage"/>) and processes the output (<see cref="OutputProcessor"/>). A failure
/// of the runner or of a request's postprocessing ends only the requests it touched. Only the engine thread touches it.
/// </summary>
internal sealed class EngineCore
{
    private readonly IModelRunner _runner;
    private readonly Scheduler _scheduler;
    private readonly ForwardBatch _batch = new();
    private readonly StepLogits _logits;
    private readonly SequencePool _sequences;
    private readonly OutputProcessor _outputs;
    private readonly SamplingStage _sampling;
    private readonly RequestFactory _requests;
    private readonly List<RequestState> _stepRequests = [];
    private readonly ILogger _logger;
    private long _steps;

    public EngineCore(IModelRunner runner, Tokenizer tokenizer, EngineOptions options, ILogger? logger = null)
    {
        options.Validate();
        _runner = runner;
        _logger = logger ?? NullLogger.Instance;
        Config = runner.Config;
        var so = options.Scheduler;
        MaxNumBatchedTokens = Math.Min(so.MaxNumBatchedTokens ?? runner.MaxBatchTokens, runner.MaxBatchTokens);
        MaxNumSeqs = Math.Min(so.MaxNumSeqs ?? runner.MaxBatchSequences, runner.MaxBatchSequences);
        Blocks = new BlockManager(runner.KvCache.BlockCount, runner.KvCache.BlockSize, so.EnablePrefixCaching);
        _scheduler = new Scheduler(Blocks, so.Policy, MaxNumBatchedTokens, MaxNumSeqs);
        Telemetry = new EngineTelemetry(options.TelemetryLabels with { Device = options.TelemetryLabels.Device ?? runner.DeviceName }, Blocks.PrefixCaching);
        _scheduler.Preempted = Telemetry.Preempted;
        _logits = new StepLogits(MaxNumSeqs, Config.VocabSize);
        _sequences = new SequencePool(Blocks, options.DefaultSeed);
        _outputs = new OutputProcessor(tokenizer, _scheduler, Config.ContextLength);
        var beams = new BeamSearch(_logits, _outputs, _sequences, _scheduler, Config.VocabSize, Config.ContextLength);
        _sampling = new SamplingStage(_logits, _outputs, _sequences, beams, Config.VocabSize);
        _requests = new RequestFactory(_sequences, _outputs);
    }

    public LlamaConfig Config { get; }

    public BlockManager Blocks { get; }

    public Scheduler Scheduler => _scheduler;

    /// <summary>The engine's metrics and request spans (its gauges start once the engine observes its snapshots).</summary>
    public EngineTelemetry Telemetry { get; }

    public int MaxNumBatchedTokens { get; }

    public int MaxNumSeqs { get; }

    public bool HasWork => _scheduler.HasWork;

    /// <summary>Requests waiting or running (pending releases aside).</summary>
    public bool HasRequests => _scheduler.HasRequests;

    /// <summary>Creates the engine-side request (callable from any thread; the request is not queued yet).</summary>
    public RequestState CreateRequest(long id, GenerationRequest request, long arrival)
    {
        var r = _requests.Create(id, request, arrival);
        r.Telemetry = Telemetry;
        return r;
    }

    public void Enqueue(RequestState request) => _scheduler.Add(request);

    /// <summary>Drops a request wherever it is, frees its blocks and ends its stream with <paramref name="error"/> (default: cancelled).</summary>
    public void Abort(RequestState request, Exception? error = null)
    {
        if (request.Aborted || request.IsCompleted) return;
        request.Aborted = true;
        foreach (var s in request.Live) _scheduler.FreeBlocks(s);
        request.Live.Clear();
        _scheduler.Remove(request);
        request.Complete(error ?? new OperationCanceledException($"request {request.Id} was cancelled"));
    }

    /// <summary>
    /// One engine iteration; null when there was nothing to do. When the runner or a request's postprocessing fails,
    /// the requests concerned have already ended with an <see cref="EngineFaultException"/> (their blocks freed, the
    /// runner told with the next batch) when that exception is thrown; every other request carries on.
    /// </summary>
    public EngineStepStats? Step()
    {
        if (!_scheduler.HasWork) return null;
        var clock = Stopwatch.StartNew();
        var scheduled = _scheduler.Schedule(_batch);
        if (_batch.IsEmpty && _batch.BlockCopies.Length == 0) return null;
        int prefill = 0, decode = 0;
        _stepRequests.Clear();
        foreach (var s in scheduled)
        {
            if (s.ComputedTokens + s.Scheduled <= s.PromptLength || s.Scheduled > 1) prefill += s.Scheduled;
            else decode += s.Scheduled;
            // A request's sequences are scheduled next to each other.
            if (_stepRequests.Count == 0 || _stepRequests[^1] != s.Request) _stepRequests.Add(s.Request);
        }
        Telemetry.Scheduled(_stepRequests);

        Execute();
        var fault = Postprocess(scheduled);
        if (fault is not null) throw fault;
        _steps++;
        return Stats(scheduled.Count, prefill, decode, clock.Elapsed.TotalMilliseconds);
    }

    private void Execute()
    {
        try
        {
            _runner.Execute(_batch, _logits.Buffer);
        }
        catch (Exception e)
        {
            // The runner may have thrown before applying the batch's releases: they go again with the next batch.
            _scheduler.ResendReleases(_batch);
            var fault = EngineFaultException.Runner(e);
            _logger.LogError(e, "Engine step failed in the model runner; its {Requests} request(s) end with the error", _stepRequests.Count);
            foreach (var r in _stepRequests) Abort(r, fault);
            throw fault;
        }
    }

    /// <summary>Returns the first request's failure, if any (each failed request already ended with its own).</summary>
    private EngineFaultException? Postprocess(List<Sequence> scheduled)
    {
        try
        {
            foreach (var s in scheduled)
            {
                s.ComputedTokens += s.Scheduled;
                Blocks.Commit(s.Blocks, CollectionsMarshal.AsSpan(s.Tokens), s.ComputedTokens);
            }
            _logits.Assign(scheduled);
        }
        catch (Exception e)
        {
            // The step's bookkeeping is unknown: none of its requests can go on.
            var fault = EngineFaultException.Postprocess(e);
            _logger.LogError(e, "Engine step failed committing its computed blocks; its {Requests} request(s) end with the error", _stepRequests.Count);
            foreach (var r in _stepRequests) Abort(r, fault);
            return fault;
        }

        EngineFaultException? first = null;
        var now = Stopwatch.GetTimestamp();
        foreach (var r in _stepRequests)
        {
            if (r.Aborted) continue;
            try
            {
                var generated = r.Timeline.GeneratedTokens;
                _sampling.Process(r);
                Telemetry.Sampled(r, generated, now);
                if (r.IsFinished) _outputs.FinishRequest(r);
            }
            catch (Exception e)
            {
                // Only this request's state is in doubt; the others of the step are unaffected.
                var fault = EngineFaultException.Postprocess(e);
                _logger.LogError(e, "Postprocessing request {RequestId} failed; it ends with the error", r.Id);
                Abort(r, fault);
                first ??= fault;
            }
        }
        return first;
    }

    private EngineStepStats Stats(int sequences, int prefill, int decode, double milliseconds)
    {
        long held = 0, slots = 0;
        foreach (var r in _scheduler.Running)
        {
            foreach (var s in r.Live)
            {
                held += s.ComputedTokens;
                slots += (long)s.Blocks.Count * Blocks.BlockSize;
            }
        }
        return new EngineStepStats(_steps, sequences, prefill + decode, prefill, decode, _scheduler.Running.Count, _scheduler.Waiting.Count,
            _scheduler.StepPreemptions, Blocks.UsedBlocks, Blocks.FreeBlocks, Blocks.CachedBlocks, held, slots, milliseconds);
    }
}
