using System.Diagnostics;
using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;
using OrleansInfer.Gateway.StatusPage;

namespace OrleansInfer.Gateway.Telemetry;

/// <summary>
/// One generation request (HTTP completions or chat, gRPC Generate or Chat) observed from its arrival to the end of
/// its response: the span <c>{operation} {model}</c>, the GenAI metrics and the <see cref="RequestRecord"/>. The
/// front-end resolves the model through <see cref="ModelAsync"/> and generates through <see cref="GenerateAsync"/>
/// (once per prompt; prompts may run concurrently), reports a failure with <see cref="Fail"/> and disposes it at the end.
/// </summary>
public sealed class GenAiRequest : IDisposable
{
    private readonly GenAiTelemetry _telemetry;
    private readonly Func<Exception, string> _errorTypeOf;
    private readonly Activity? _span;
    private readonly long _started;
    private readonly Lock _lock = new();
    private readonly List<string> _finishReasons = [];
    private string? _requestedModel;
    private string? _model;
    private bool _samplingTagged;
    private long? _firstToken;
    private long _lastChunk;
    private int _inputTokens;
    private int _outputTokens;
    private bool _tokensKnown;
    private string? _errorType;
    private string? _errorMessage;
    private int _ended;

    internal GenAiRequest(GenAiTelemetry telemetry, string operation, Func<Exception, string> errorTypeOf)
    {
        _telemetry = telemetry;
        _errorTypeOf = errorTypeOf;
        Operation = operation;
        _started = telemetry.Time.GetTimestamp();
        // A child of the ASP.NET Core server span (Activity.Current), which carries the caller's traceparent.
        _span = GenAi.Source.StartActivity(ActivityKind.Internal, tags: [new(GenAi.OperationName, operation), new(GenAi.ProviderName, GenAi.Provider)], name: operation);
    }

    /// <summary><c>chat</c> or <c>text_completion</c>.</summary>
    public string Operation { get; }

    /// <summary>The request's span, when something listens to the gateway's source.</summary>
    public Activity? Span => _span;

    /// <summary>Resolves the model the caller named (null or empty: the only one), noting the name and the model served.</summary>
    public async Task<ServedModel> ModelAsync(IInferenceCluster cluster, string? name, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(name)) NameModel(name);
        var model = await cluster.GetModelAsync(name, cancellationToken).ConfigureAwait(false);
        lock (_lock) _model = model.Id;
        if (string.IsNullOrEmpty(name)) NameModel(model.Id);
        _span?.SetTag(GenAi.ResponseModel, model.Id);
        return model;
    }

    private void NameModel(string name)
    {
        lock (_lock) _requestedModel = name;
        if (_span is null) return;
        _span.DisplayName = $"{Operation} {name}";
        _span.SetTag(GenAi.RequestModel, name);
    }

    /// <summary><paramref name="cluster"/>'s generation of one prompt, observed: first token, usage, finish reasons, failure.</summary>
    public async IAsyncEnumerable<TokenChunk> GenerateAsync(IInferenceCluster cluster, ServedModel model, GenerateRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TagSampling(request.Sampling);
        var stream = new StreamTally();
        var ended = false;
        IAsyncEnumerator<TokenChunk>? chunks = null;
        try
        {
            chunks = cluster.GenerateAsync(model, request, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await chunks.MoveNextAsync().ConfigureAwait(false)) break;
                }
                catch (Exception e)
                {
                    ended = true;
                    Fail(e);
                    throw;
                }
                Observe(chunks.Current, stream);
                yield return chunks.Current;
            }
            ended = true;
        }
        finally
        {
            if (chunks is not null) await chunks.DisposeAsync().ConfigureAwait(false);
            // Left before its end without an error of its own: the caller stopped reading (client gone, a sibling failed).
            if (!ended) Fail(new OperationCanceledException("the response stopped before the generation ended"));
            Tally(request, stream);
        }
    }

    private void TagSampling(SamplingSpec sampling)
    {
        lock (_lock)
        {
            if (_samplingTagged) return;
            _samplingTagged = true;
        }
        if (_span is null) return;
        _span.SetTag(GenAi.RequestMaxTokens, sampling.MaxTokens);
        _span.SetTag(GenAi.RequestTemperature, (double)sampling.Temperature);
        _span.SetTag(GenAi.RequestTopP, (double)sampling.TopP);
        if (sampling.TopK > 0) _span.SetTag(GenAi.RequestTopK, (double)sampling.TopK);
        if (sampling.Seed is { } seed) _span.SetTag(GenAi.RequestSeed, (long)seed);
        if (sampling.N != 1) _span.SetTag(GenAi.RequestChoiceCount, sampling.N);
    }

    private void Observe(TokenChunk chunk, StreamTally stream)
    {
        if (chunk.IsHeartbeat || chunk.Progress) return;
        var now = _telemetry.Time.GetTimestamp();
        var first = false;
        lock (_lock)
        {
            _lastChunk = now;
            if (chunk.TokenIds.Length > 0 && _firstToken is null)
            {
                _firstToken = now;
                first = true;
            }
            if (chunk.FinishReason is { } reason) _finishReasons.Add(reason);
        }
        stream.Tokens += chunk.TokenIds.Length;
        // A request's usage comes once, on its last chunk; the first one seen counts.
        stream.Usage ??= chunk.Usage;
        if (first) _span?.AddEvent(new ActivityEvent(GenAi.FirstTokenEvent));
    }

    /// <summary>
    /// Adds a finished stream's tokens: what the cluster reported, or (cut short) the prompt and the tokens streamed
    /// once it reached a worker; a stream refused before any token counts none.
    /// </summary>
    private void Tally(GenerateRequest request, StreamTally stream)
    {
        if (stream.Usage is null && stream.Tokens == 0) return;
        lock (_lock)
        {
            _tokensKnown = true;
            _inputTokens += stream.Usage?.PromptTokens ?? request.PromptTokens.Length;
            _outputTokens += stream.Usage?.CompletionTokens ?? stream.Tokens;
        }
    }

    /// <summary>Marks the request failed (the first failure counts), named by the front-end's error type.</summary>
    public void Fail(Exception error)
    {
        var type = _errorTypeOf(error);
        lock (_lock)
        {
            if (_errorType is not null || Volatile.Read(ref _ended) != 0) return;
            _errorType = type;
            _errorMessage = error.Message.Split('\n')[0];
        }
    }

    /// <summary>Ends the request: records its metrics, ends its span and lists it among the recent requests.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        var time = _telemetry.Time;
        var now = time.GetTimestamp();
        string? requested, model, errorType, errorMessage;
        long? firstToken;
        long lastChunk;
        int input, output;
        bool tokensKnown;
        string[] reasons;
        lock (_lock)
        {
            (requested, model, errorType, errorMessage) = (_requestedModel, _model, _errorType, _errorMessage);
            (firstToken, lastChunk, input, output, tokensKnown, reasons) = (_firstToken, _lastChunk, _inputTokens, _outputTokens, _tokensKnown, [.. _finishReasons]);
        }

        var duration = time.GetElapsedTime(_started, now).TotalSeconds;
        double? ttft = firstToken is { } f ? time.GetElapsedTime(_started, f).TotalSeconds : null;
        // vLLM's TPOT: the time after the first token over the tokens after the first.
        double? tpot = firstToken is { } t && output > 1 ? time.GetElapsedTime(t, lastChunk).TotalSeconds / (output - 1) : null;

        var tags = new TagList { { GenAi.OperationName, Operation }, { GenAi.ProviderName, GenAi.Provider } };
        // Only a model the cluster serves is a label: names of unknown models would let any caller create series.
        if (model is not null)
        {
            tags.Add(GenAi.RequestModel, requested ?? model);
            tags.Add(GenAi.ResponseModel, model);
        }
        if (errorType is not null) tags.Add(GenAi.ErrorType, errorType);
        _telemetry.Metrics.Record(tags, duration, ttft, tpot, tokensKnown ? input : null, tokensKnown ? output : null, errorType is not null);

        if (_span is not null)
        {
            if (tokensKnown)
            {
                _span.SetTag(GenAi.UsageInputTokens, input);
                _span.SetTag(GenAi.UsageOutputTokens, output);
            }
            if (reasons.Length > 0) _span.SetTag(GenAi.ResponseFinishReasons, reasons);
            if (errorType is not null)
            {
                _span.SetTag(GenAi.ErrorType, errorType);
                _span.SetStatus(ActivityStatusCode.Error, errorMessage);
            }
            _span.Dispose();
        }

        _telemetry.Recent.Add(new RequestRecord(time.GetUtcNow(), model ?? requested ?? "", Operation, input, output, ttft, tpot, duration,
            reasons.Length == 0 ? null : string.Join(',', reasons.Distinct()), errorType));
    }

    /// <summary>What one prompt's stream produced.</summary>
    private sealed class StreamTally
    {
        public int Tokens;
        public UsageReport? Usage;
    }
}
