using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Client;

/// <summary>
/// The client side of cluster generation: ask the model's router for a worker, stream from it, and keep the stream
/// whole whatever happens to the worker, its silo or the gateway in between. The client is the record of what was
/// delivered (<see cref="OutputLedger"/>): a resumed attempt carries exactly that (tokens and sampler states of every
/// output, best_of candidates' progress), so the caller sees no duplicated and no missing token, and greedy or
/// seeded outputs equal a fault-free run. Beam search, which cannot resume, restarts and skips what was delivered.
/// </summary>
public sealed class ClusterStreamClient
{
    private readonly IGrainFactory _grains;
    private readonly ClusterStreamOptions _options;
    private readonly GatewayWatch? _gateways;
    private readonly PlacementRetry _placement;

    public ClusterStreamClient(IGrainFactory grains, ClusterStreamOptions? options = null, GatewayWatch? gateways = null)
    {
        _grains = grains;
        _options = (options ?? new ClusterStreamOptions()).Validate();
        _gateways = gateways;
        _placement = new PlacementRetry(_options);
    }

    /// <summary>Streams <paramref name="request"/> through the cluster serving <paramref name="modelId"/>.</summary>
    /// <param name="modelId">The model's router key.</param>
    /// <param name="request">The request (RequestId unique per request).</param>
    /// <param name="cancellationToken">Cancels the request on its worker (its blocks are freed).</param>
    /// <param name="pinnedWorker">Start on this worker instead of asking the router (diagnostics, drills).</param>
    /// <param name="onRecovery">Told about each failure, hand-off or gateway loss the stream recovers from.</param>
    /// <exception cref="ClusterRejectedException">The request is invalid, or no worker could take it before the deadline.</exception>
    /// <exception cref="ClusterStreamFailedException">Workers kept failing the request (more than MaxRecoveries times).</exception>
    public async IAsyncEnumerable<TokenChunk> GenerateAsync(string modelId, GenerateRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default, string? pinnedWorker = null, Action<StreamRecovery>? onRecovery = null)
    {
        var router = _grains.GetGrain<IRouterGrain>(modelId);
        var ledger = new OutputLedger(request.Sampling);
        var failed = new List<string>();
        var worker = pinnedWorker;
        long ticket = 0;
        int recoveries = 0, reattachments = 0, moves = 0;
        var deadline = _options.Time.GetUtcNow() + _options.RetryDeadline;

        while (true)
        {
            if (worker is null)
            {
                var placement = await _placement.PlaceAsync(router, PlacementFor(request, ledger, failed), deadline, cancellationToken,
                    e => onRecovery?.Invoke(new StreamRecovery($"router {modelId}", e, RecoveryKind.PlacementRetried, ledger.TokensDelivered))).ConfigureAwait(false);
                (worker, ticket) = (placement.WorkerKey, placement.Ticket);
            }

            var attempt = new StreamAttempt(_options, _gateways);
            var call = request with
            {
                Resumed = ledger.Resumed(),
                PlacementTicket = ticket,
                ReportProgress = !request.Sampling.Streams && request.Sampling.CanResume,
            };
            await foreach (var chunk in attempt.Run(_grains.GetGrain<IWorkerGrain>(worker), call, cancellationToken).ConfigureAwait(false))
            {
                if (chunk.IsHeartbeat) continue;
                if (chunk.Progress)
                {
                    ledger.AcceptProgress(chunk);
                    continue;
                }
                if (!ledger.Accept(chunk)) continue;
                if (chunk.TokenIds.Length > 0) deadline = _options.Time.GetUtcNow() + _options.RetryDeadline;
                yield return chunk;
            }

            if (ledger.IsComplete) yield break;
            switch (attempt.End)
            {
                case AttemptEnd.Moved when moves++ < _options.MaxMoves:
                    onRecovery?.Invoke(new StreamRecovery(worker, new InvalidOperationException($"handed off to {attempt.MovedTo}"), RecoveryKind.Moved, ledger.TokensDelivered));
                    (worker, ticket) = (attempt.MovedTo!, 0);
                    continue;
                case AttemptEnd.Reattach when reattachments < _options.MaxReattachments:
                    reattachments++;
                    onRecovery?.Invoke(new StreamRecovery(worker, new TimeoutException("quiet after a gateway loss"), RecoveryKind.Reattached, ledger.TokensDelivered));
                    ticket = 0;
                    continue;
            }

            var error = attempt.End switch
            {
                AttemptEnd.Failed => attempt.Error!,
                AttemptEnd.Moved => new InvalidOperationException($"the request was handed off {moves - 1} times"),
                AttemptEnd.Reattach => new TimeoutException($"the stream kept going quiet after gateway losses ({reattachments} re-attachments)"),
                _ => new InvalidOperationException("the worker's stream ended before the request finished"),
            };
            if (error is ClusterRejectedException { IsTransient: false }) throw error;
            if (++recoveries > _options.MaxRecoveries)
                throw new ClusterStreamFailedException($"request {request.RequestId} failed on {recoveries} workers; last error: {error.Message.Split('\n')[0]}", error);
            onRecovery?.Invoke(new StreamRecovery(worker, error, RecoveryKind.Resumed, ledger.TokensDelivered));
            failed.Add(worker);
            worker = null;
        }
    }

    private static PlacementRequest PlacementFor(GenerateRequest request, OutputLedger ledger, List<string> failed) => new()
    {
        PromptTokens = request.PromptTokens,
        MaxTokens = request.Sampling.MaxTokens,
        Width = request.Sampling.Width,
        Exclude = [.. failed],
        ResumedTokens = ledger.LongestUnfinished,
    };
}

/// <summary>Workers kept failing a request: it was resumed elsewhere more often than the client allows.</summary>
public sealed class ClusterStreamFailedException(string message, Exception inner) : Exception(message, inner);
