using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;
using OrleansInfer.Client;
using OrleansInfer.Gateway.Telemetry;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Gateway.Inference;

/// <summary>
/// <see cref="IInferenceCluster"/> over an Orleans cluster client: models and their tokenizers from the workers,
/// generation through the resilient <see cref="ClusterStreamClient"/> behind the admission gate and request timeout,
/// cluster errors turned into <see cref="GatewayException"/>s.
/// </summary>
public sealed class ClusterInference : IInferenceCluster
{
    private static readonly TimeSpan OverloadRetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CatalogFreshFor = TimeSpan.FromSeconds(1);

    private readonly IGrainFactory _grains;
    private readonly ClusterStreamClient _streams;
    private readonly GatewayOptions _options;
    private readonly AdmissionGate _admission;
    private readonly ConcurrentDictionary<string, Lazy<Task<ServedModel>>> _models = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private CatalogRead _catalog = new([], DateTimeOffset.MinValue);

    public ClusterInference(IGrainFactory grains, ClusterStreamClient streams, GatewayOptions options, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _grains = grains;
        _streams = streams;
        _options = options;
        _admission = new AdmissionGate(options.MaxQueuedRequests);
    }

    /// <summary>Requests of <paramref name="model"/> admitted and waiting for their first token.</summary>
    public int Queued(string model) => _admission.Queued(model);

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var models = await _grains.GetGrain<IModelCatalogGrain>(0).List().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _catalog, new CatalogRead(models, _time.GetUtcNow()));
        return models;
    }

    /// <summary>The catalog as read within the last second (a grain call per request would cost every request a hop).</summary>
    private async Task<IReadOnlyList<string>> RecentModelsAsync(string? wanted, CancellationToken cancellationToken)
    {
        var (models, read) = Volatile.Read(ref _catalog);
        var fresh = _time.GetUtcNow() - read < CatalogFreshFor;
        // A name the cached list lacks is asked about again before it is called unknown.
        if (fresh && models.Count > 0 && (string.IsNullOrEmpty(wanted) || models.Contains(wanted))) return models;
        return await ListModelsAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken)
    {
        var models = await RecentModelsAsync(name, cancellationToken).ConfigureAwait(false);
        string id;
        if (string.IsNullOrEmpty(name))
        {
            if (models.Count != 1)
                throw models.Count == 0
                    ? new GatewayException(GatewayErrorKind.Unavailable, "the cluster serves no model yet (no worker has registered)")
                    : GatewayException.Invalid("model", $"the cluster serves several models; name one of: {string.Join(", ", models)}");
            id = models[0];
        }
        else
        {
            id = models.Contains(name) ? name : throw new GatewayException(GatewayErrorKind.NotFound, $"The model `{name}` does not exist.", "model");
        }

        var entry = _models.GetOrAdd(id, key => new Lazy<Task<ServedModel>>(() => LoadModelAsync(key)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failed fetch (no worker yet) is not cached: the next request asks again.
            _models.TryRemove(new KeyValuePair<string, Lazy<Task<ServedModel>>>(id, entry));
            throw e as GatewayException ?? new GatewayException(GatewayErrorKind.Unavailable, $"no worker of model '{id}' answers: {e.Message.Split('\n')[0]}", inner: e);
        }
    }

    private async Task<ServedModel> LoadModelAsync(string id)
    {
        var router = _grains.GetGrain<IRouterGrain>(id);
        var workers = await router.GetWorkers().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (workers.Length == 0) throw new GatewayException(GatewayErrorKind.Unavailable, $"no worker serves model '{id}' now");
        var tokenizer = await ClusterModels.TokenizerAsync(_grains, id).ConfigureAwait(false);
        var context = workers.Min(w => w.ContextLength);
        ChatTemplate? template = null;
        string? problem = null;
        try
        {
            template = ChatTemplate.For(tokenizer.Vocabulary, id);
        }
        catch (ChatTemplateMissingException)
        {
            // No template: ServedModel.RequireChatTemplate says so to chat requests.
        }
        catch (TemplateSyntaxException e)
        {
            problem = $"the chat template of model '{id}' does not parse: {e.Describe()}";
        }
        return new ServedModel(id, tokenizer, context, template, problem, DateTimeOffset.UtcNow);
    }

    public async IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ticket = _admission.TryEnter(model.Id)
            ?? throw new GatewayException(GatewayErrorKind.Overloaded, $"model '{model.Id}' has {_options.MaxQueuedRequests} requests queued; try again shortly", retryAfter: OverloadRetryAfter);
        using var _ = ticket;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        // Resumes and hand-offs become events of the request's gateway span (Telemetry/GenAiTelemetry).
        await using var chunks = _streams.GenerateAsync(model.Id, request, timeout.Token, onRecovery: GenAiTelemetry.OnRecovery).GetAsyncEnumerator(timeout.Token);
        while (true)
        {
            TokenChunk chunk;
            try
            {
                if (!await chunks.MoveNextAsync().ConfigureAwait(false)) yield break;
                chunk = chunks.Current;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new GatewayException(GatewayErrorKind.Timeout, $"the request took longer than the gateway's request timeout of {_options.RequestTimeout.TotalSeconds:0.###} s");
            }
            catch (Exception e) when (e is not OperationCanceledException and not GatewayException)
            {
                throw Translate(e);
            }
            if (chunk.TokenIds.Length > 0) ticket.Started();
            yield return chunk;
        }
    }

    /// <summary>A cluster failure as the caller's error: invalid requests name their field ("max_tokens: ...").</summary>
    internal static GatewayException Translate(Exception e) => e switch
    {
        ClusterRejectedException { Reason: ClusterRejection.InvalidRequest } r => GatewayException.Invalid(FieldOf(r.Message), r.Message),
        ClusterRejectedException { Reason: ClusterRejection.NoCapacity } r => new GatewayException(GatewayErrorKind.Overloaded, r.Message, retryAfter: OverloadRetryAfter, inner: r),
        ClusterRejectedException { Reason: ClusterRejection.NoWorkers } r => new GatewayException(GatewayErrorKind.Unavailable, r.Message, retryAfter: OverloadRetryAfter, inner: r),
        _ => new GatewayException(GatewayErrorKind.Internal, $"the request failed in the cluster: {e.Message.Split('\n')[0]}", inner: e),
    };

    private static string FieldOf(string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && message.AsSpan(0, colon).IndexOfAny(' ', '\'') < 0 ? message[..colon] : "prompt";
    }

    public async Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken)
    {
        var ids = string.IsNullOrEmpty(model) ? await ListModelsAsync(cancellationToken).ConfigureAwait(false) : [(await GetModelAsync(model, cancellationToken).ConfigureAwait(false)).Id];
        var all = new List<WorkerLoad>();
        foreach (var id in ids)
            all.AddRange(await _grains.GetGrain<IRouterGrain>(id).GetWorkers().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false));
        return all;
    }
}

/// <summary>The model catalog as read at a time.</summary>
internal sealed record CatalogRead(IReadOnlyList<string> Models, DateTimeOffset Read);
