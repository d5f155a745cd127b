using System.Diagnostics;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// The single-threaded heart of an engine, nano-vllm style: <see cref="Step"/> is Schedule() →
/// runner.Execute(batch) → Postprocess(). Postprocessing samples (or searches beams), appends tokens, detects the
/// end of each output, writes chunks to the requests' channels and frees what finished. Only the engine thread
/// touches it.
/// </summary>
internal sealed partial class EngineCore
{
    private readonly IModelRunner _runner;
    private readonly Tokenizer _tokenizer;
    private readonly Scheduler _scheduler;
    private readonly Sampler _sampler;
    private readonly ForwardBatch _batch = new();
    private readonly float[] _logits;
    private readonly float[] _scratch;
    private readonly int[] _topIds;
    private readonly Dictionary<Sequence, int> _rows = [];
    private readonly List<RequestState> _stepRequests = [];
    private readonly ulong? _defaultSeed;
    private long _steps;
    private long _nextSequenceId;

    public EngineCore(IModelRunner runner, Tokenizer tokenizer, EngineOptions options)
    {
        options.Scheduler.Validate();
        _runner = runner;
        _tokenizer = tokenizer;
        _defaultSeed = options.DefaultSeed;
        Config = runner.Config;
        var so = options.Scheduler;
        MaxNumBatchedTokens = Math.Min(so.MaxNumBatchedTokens ?? runner.MaxBatchTokens, runner.MaxBatchTokens);
        MaxNumSeqs = Math.Min(so.MaxNumSeqs ?? runner.MaxBatchSequences, runner.MaxBatchSequences);
        Blocks = new BlockManager(runner.KvCache.BlockCount, runner.KvCache.BlockSize, so.EnablePrefixCaching);
        _scheduler = new Scheduler(Blocks, so.Policy, MaxNumBatchedTokens, MaxNumSeqs);
        _sampler = new Sampler(Config.VocabSize);
        _logits = new float[(long)MaxNumSeqs * Config.VocabSize];
        _scratch = new float[Config.VocabSize];
        _topIds = new int[Math.Max(2 * SamplingParams.MaxWidth, SamplingParams.MaxLogprobs)];
    }

    public LlamaConfig Config { get; }

    public BlockManager Blocks { get; }

    public Scheduler Scheduler => _scheduler;

    public int MaxNumBatchedTokens { get; }

    public int MaxNumSeqs { get; }

    public bool HasWork => _scheduler.HasWork;

    /// <summary>Creates the engine-side request: one sequence holding the prompt.</summary>
    public RequestState CreateRequest(long id, GenerationRequest request, long arrival)
    {
        var sequenceId = NextSequenceId();
        var r = new RequestState(id, request.PromptTokens, request.Sampling, request.Priority, arrival) { SubmittedTicks = Stopwatch.GetTimestamp() };
        var seed = request.Sampling.Seed ?? _defaultSeed ?? (ulong)Random.Shared.NextInt64();
        var rng = request.RngState is { } state ? Xoshiro256.FromState(state) : new Xoshiro256(seed);
        var s = new Sequence(sequenceId, r, 0, [.. request.PromptTokens], rng);
        if (!r.IsBeamSearch) s.Text = NewText(r);
        if (request.Sampling.Logprobs is not null) s.Logprobs = [];
        foreach (var t in request.ResumeTokens)
        {
            // A resumed request: its generated tokens are recomputed with the prompt, and its text state is
            // rebuilt so what follows continues exactly where the delivered text stopped.
            s.Append(t);
            s.Text?.Append(t);
        }
        if (request.ResumeTokens.Length > 0) r.Expanded = true;
        r.Live.Add(s);
        return r;
    }

    public void Enqueue(RequestState request) => _scheduler.Add(request);

    /// <summary>Sequence ids are unique per engine (the runner keys its block tables by them); callable from any thread.</summary>
    public long NextSequenceId() => Interlocked.Increment(ref _nextSequenceId);

    /// <summary>Drops a request wherever it is, frees its blocks and ends its stream as cancelled.</summary>
    public void Abort(RequestState request, Exception? error = null)
    {
        if (request.Aborted || (request.IsFinished && request.Output.Reader.Completion.IsCompleted)) return;
        request.Aborted = true;
        foreach (var s in request.Live) _scheduler.FreeBlocks(s);
        request.Live.Clear();
        _scheduler.Remove(request);
        request.Output.Writer.TryComplete(error ?? new OperationCanceledException($"request {request.Id} was cancelled"));
    }

    /// <summary>One engine iteration; null when there was nothing to do.</summary>
    public EngineStepStats? Step()
    {
        if (!_scheduler.HasWork) return null;
        var clock = Stopwatch.StartNew();
        var scheduled = _scheduler.Schedule(_batch);
        if (_batch.IsEmpty && _batch.BlockCopies.Length == 0) return null;

        int prefill = 0, decode = 0;
        foreach (var s in scheduled)
        {
            if (s.ComputedTokens + s.Scheduled <= s.PromptLength || s.Scheduled > 1) prefill += s.Scheduled;
            else decode += s.Scheduled;
        }

        try
        {
            _runner.Execute(_batch, _logits);
        }
        catch (Exception e)
        {
            // The step's requests cannot continue; everyone else can. Releases the runner may not have applied go again.
            _scheduler.ResendReleases(_batch);
            foreach (var r in scheduled.Select(s => s.Request).Distinct().ToList()) Abort(r, new InvalidOperationException($"the model runner failed: {e.Message}", e));
            throw;
        }

        Postprocess(scheduled);
        _steps++;

        long held = 0, slots = 0;
        foreach (var r in _scheduler.Running)
        {
            foreach (var s in r.Live)
            {
                held += s.ComputedTokens;
                slots += (long)s.Blocks.Count * Blocks.BlockSize;
            }
        }
        return new EngineStepStats(_steps, scheduled.Count, prefill + decode, prefill, decode, _scheduler.Running.Count, _scheduler.Waiting.Count,
            _scheduler.StepPreemptions, Blocks.UsedBlocks, Blocks.FreeBlocks, Blocks.CachedBlocks, held, slots, clock.Elapsed.TotalMilliseconds);
    }

    private void Postprocess(List<Sequence> scheduled)
    {
        _rows.Clear();
        _stepRequests.Clear();
        var row = 0;
        foreach (var s in scheduled)
        {
            s.ComputedTokens += s.Scheduled;
            Blocks.Commit(s.Blocks, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Tokens), s.ComputedTokens);
            if (s.WantsLogits) _rows[s] = row++;
            if (_stepRequests.Count == 0 || _stepRequests[^1] != s.Request) _stepRequests.Add(s.Request);
        }

        foreach (var r in _stepRequests)
        {
            if (r.Aborted) continue;
            if (r.IsBeamSearch)
            {
                if (r.Live.TrueForAll(_rows.ContainsKey)) BeamStep(r);
            }
            else
            {
                foreach (var s in r.Live.ToArray())
                {
                    if (_rows.ContainsKey(s)) SampleNext(s);
                }
            }
            if (r.IsFinished) FinishRequest(r);
        }
    }

    private Span<float> RowOf(Sequence s) => _logits.AsSpan(_rows[s] * Config.VocabSize, Config.VocabSize);

    private void SampleNext(Sequence s)
    {
        var r = s.Request;
        var row = RowOf(s);
        LogitsProcessing.ApplyPenalties(row, r.Sampling, r.PromptSet, s.OutputCounts);
        if (!r.Expanded)
        {
            r.Expanded = true;
            r.FirstTokenTicks = Stopwatch.GetTimestamp();
            // Parallel samples share the prompt's blocks and draw from the same logits, each with its own generator,
            // derived from the request's seed or else the engine's default one (as the first sample's is, in
            // CreateRequest; the others used to draw random seeds even with a default seed set).
            var seed = r.Sampling.Seed ?? _defaultSeed;
            for (var i = 1; i < r.Sampling.Width; i++)
            {
                var child = Fork(s, i, new Xoshiro256(seed is { } sd ? sd + (ulong)i * 0x9E3779B97F4A7C15UL : (ulong)Random.Shared.NextInt64()));
                child.Text = NewText(r);
                Draw(child, row);
            }
        }
        Draw(s, row);
    }

    /// <summary>Samples the next token of <paramref name="s"/> from <paramref name="row"/> (penalties applied) and appends it.</summary>
    private void Draw(Sequence s, ReadOnlySpan<float> row)
    {
        var p = s.Request.Sampling;
        var needLogprob = p.Logprobs is not null || p.Width > p.N;
        var lse = needLogprob ? LogitsProcessing.LogSumExp(row, _scratch) : 0f;
        var token = _sampler.Sample(row, p, ref s.Rng);
        TokenLogprobs? lp = null;
        if (p.Logprobs is { } top) lp = LogitsProcessing.Logprobs(row, token, top, lse, _topIds);
        if (needLogprob) s.CumulativeLogprob += row[token] - lse;
        Append(s, token, lp);
    }

    private void Append(Sequence s, int token, TokenLogprobs? logprob)
    {
        var r = s.Request;
        var p = r.Sampling;
        s.Append(token);
        if (logprob is not null) s.Logprobs?.Add(logprob);

        FinishReason? finish = null;
        var delta = "";
        // A stop token (EOS, or one of the request's) ends the output and, as in vLLM, adds no text.
        var stopToken = (!p.IgnoreEos && _tokenizer.IsEndOfGeneration(token)) || p.StopTokenIds.Contains(token);
        if (s.Text is not null && !stopToken)
        {
            (delta, var stopped) = s.Text.Append(token);
            if (stopped) finish = FinishReason.Stop;
        }
        if (finish is null)
        {
            if (stopToken) finish = FinishReason.Stop;
            else if (s.OutputLength >= p.MaxTokens || s.Tokens.Count >= Config.ContextLength) finish = FinishReason.Length;
            if (finish is not null && s.Text is not null) delta += s.Text.Finish();
        }

        s.Finish = finish;
        if (finish is not null) EndSequence(s);
        if (p.Streams)
        {
            var last = finish is not null && r.Live.Count == 0;
            r.Output.Writer.TryWrite(new GenerationChunk(s.OutputIndex, [token], delta, logprob is null ? null : [logprob], finish, last ? Usage(r) : null)
            {
                RngState = p.IsGreedy || p.Width > 1 ? null : s.Rng.State,
            });
        }
    }

    /// <summary>A sequence is done: its blocks go back (the runner forgets it with the next batch).</summary>
    private void EndSequence(Sequence s)
    {
        _scheduler.FreeBlocks(s);
        s.Request.Live.Remove(s);
        s.Request.Done.Add(s);
    }

    private void FinishRequest(RequestState r)
    {
        _scheduler.Remove(r);
        if (!r.Sampling.Streams)
        {
            var chosen = r.IsBeamSearch
                ? r.Hypotheses.OrderByDescending(BeamScore).ThenBy(h => h.Id).Take(r.Sampling.N).ToList()
                : r.Done.OrderByDescending(s => s.CumulativeLogprob).ThenBy(s => s.OutputIndex).Take(r.Sampling.N).ToList();
            for (var i = 0; i < chosen.Count; i++)
            {
                var s = chosen[i];
                var text = s.Text?.Text ?? Decode(s);
                var tokens = s.Tokens.GetRange(s.PromptLength, s.OutputLength);
                r.Output.Writer.TryWrite(new GenerationChunk(i, tokens, text, s.Logprobs, s.Finish ?? FinishReason.Length, i == chosen.Count - 1 ? Usage(r) : null));
            }
        }
        r.Output.Writer.TryComplete();
    }

    /// <summary>Completion tokens count every generated output (all best_of samples), or the returned beams.</summary>
    private UsageInfo Usage(RequestState r)
    {
        var completion = r.IsBeamSearch
            ? r.Hypotheses.OrderByDescending(BeamScore).Take(r.Sampling.N).Sum(h => h.OutputLength)
            : r.Done.Sum(s => s.OutputLength);
        return new UsageInfo(r.Prompt.Length, completion, r.CachedPromptTokens);
    }

    private Sequence Fork(Sequence parent, int outputIndex, Xoshiro256 rng)
    {
        var child = parent.Fork(NextSequenceId(), outputIndex, rng);
        Blocks.Fork(parent.Blocks, child.Blocks);
        parent.Request.Live.Add(child);
        return child;
    }

    private OutputText NewText(RequestState r) => new(_tokenizer, r.Prompt[^1], r.Sampling.Stop);

    private string Decode(Sequence s)
    {
        var text = NewText(s.Request);
        var sb = new System.Text.StringBuilder();
        for (var i = s.PromptLength; i < s.Tokens.Count; i++) sb.Append(text.Append(s.Tokens[i]).Delta);
        return sb.Append(text.Finish()).ToString();
    }
}
