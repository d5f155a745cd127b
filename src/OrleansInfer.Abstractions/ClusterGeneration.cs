using System.Runtime.CompilerServices;

namespace OrleansInfer.Abstractions;

/// <summary>
/// The client side of cluster generation: ask the model's router for a worker, stream from it, and keep the
/// stream whole when the worker hands the request off (a rebalancing move or a drain) or its silo dies. The
/// client is the record of what was delivered: a resumed request carries exactly those tokens (and the
/// sampler's state after them), so the caller sees no duplicated and no missing token.
/// </summary>
public static class ClusterGeneration
{
    /// <summary>How long placement is retried while the cluster recovers from a failure.</summary>
    public static TimeSpan PlacementPatience { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A worker that sends nothing for this long (not even the heartbeat it sends every second while it has no
    /// tokens) is taken for dead and the request resumes elsewhere: quicker than Orleans' 30 s response timeout.
    /// </summary>
    public static TimeSpan SilenceLimit { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>One placement call may take this long before it is retried (its router may sit on a dead silo).</summary>
    public static TimeSpan PlacementCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Streams <paramref name="request"/> through the cluster serving <paramref name="modelId"/>.</summary>
    /// <param name="grains">The cluster client.</param>
    /// <param name="modelId">The model's router key.</param>
    /// <param name="request">The request (RequestId unique per request).</param>
    /// <param name="cancellationToken">Cancels the request on its worker (its blocks are freed).</param>
    /// <param name="maxRecoveries">Worker failures survived before giving up.</param>
    /// <param name="pinnedWorker">Start on this worker instead of asking the router (diagnostics, drills).</param>
    /// <param name="onRecovery">Told about each worker failure the stream recovers from (worker key, error).</param>
    /// <exception cref="ClusterRejectedException">The request is invalid, or no worker can take it.</exception>
    public static async IAsyncEnumerable<TokenChunk> GenerateAsync(this IGrainFactory grains, string modelId, GenerateRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default, int maxRecoveries = 8, string? pinnedWorker = null,
        Action<string, Exception>? onRecovery = null)
    {
        var router = grains.GetGrain<IRouterGrain>(modelId);
        var delivered = new List<int>(request.ResumeTokens);
        var rng = request.RngState;
        var failed = new List<string>();
        var worker = pinnedWorker;
        long ticket = 0;
        var recoveries = 0;

        while (true)
        {
            if (worker is null)
            {
                var placement = await PlaceAsync(router, request, delivered.Count, failed, cancellationToken).ConfigureAwait(false);
                (worker, ticket) = (placement.WorkerKey, placement.Ticket);
            }

            var attempt = request with { ResumeTokens = [.. delivered], RngState = rng, PlacementTicket = ticket };
            var enumerator = grains.GetGrain<IWorkerGrain>(worker).Generate(attempt, cancellationToken).GetAsyncEnumerator(cancellationToken);
            string? movedTo = null;
            Exception? failure = null;
            var completed = false;
            try
            {
                while (true)
                {
                    TokenChunk chunk;
                    try
                    {
                        if (!await enumerator.MoveNextAsync().AsTask().WaitAsync(SilenceLimit, cancellationToken).ConfigureAwait(false))
                        {
                            completed = true;
                            break;
                        }
                        chunk = enumerator.Current;
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (ClusterRejectedException e) when (e.Reason == ClusterRejection.InvalidRequest || !request.Sampling.CanResume)
                    {
                        throw;
                    }
                    catch (Exception e) when (request.Sampling.CanResume || e is ClusterRejectedException)
                    {
                        failure = e;
                        break;
                    }

                    if (chunk.MovedTo is { } target)
                    {
                        movedTo = target;
                        break;
                    }
                    if (chunk.TokenIds.Length == 0 && chunk.FinishReason is null && chunk.Usage is null) continue; // heartbeat
                    delivered.AddRange(chunk.TokenIds);
                    rng = chunk.RngState ?? rng;
                    yield return chunk;
                }
            }
            finally
            {
                // After a failure the dead worker's enumerator may take Orleans' response timeout to give up: don't wait.
                var disposing = DisposeQuietly(enumerator);
                if (failure is null) await disposing.ConfigureAwait(false);
            }

            if (completed) yield break;
            if (movedTo is not null)
            {
                (worker, ticket) = (movedTo, 0);
                continue;
            }
            if (++recoveries > maxRecoveries)
                throw new InvalidOperationException($"request {request.RequestId} failed on {recoveries} workers; last error: {failure!.Message}", failure);
            // The worker (or its silo) is gone: place the rest of the request elsewhere.
            onRecovery?.Invoke(worker, failure!);
            failed.Add(worker);
            worker = null;
        }
    }

    private static async Task<PlacementDecision> PlaceAsync(IRouterGrain router, GenerateRequest request, int delivered, List<string> failed, CancellationToken ct)
    {
        var placement = new PlacementRequest
        {
            PromptTokens = request.PromptTokens,
            MaxTokens = request.Sampling.MaxTokens,
            Width = request.Sampling.Width,
            Exclude = [.. failed],
            ResumedTokens = delivered,
        };
        // Right after a failure the router may be unreachable (its silo died and the cluster has not declared it
        // dead yet) or re-activating and waiting for its workers' first reports: retry for a while.
        var deadline = DateTime.UtcNow + PlacementPatience;
        for (var wait = 50; ; wait = Math.Min(wait * 2, 1000))
        {
            try
            {
                return await router.Place(placement).WaitAsync(PlacementCallTimeout, ct).ConfigureAwait(false);
            }
            catch (ClusterRejectedException e) when (e.Reason == ClusterRejection.NoWorkers && DateTime.UtcNow < deadline)
            {
                // A worker that failed may have failed for a passing reason (its silo was reaching a dead one):
                // when only excluded workers are left, they are tried again.
                if (placement.Exclude.Length > 0) placement = placement with { Exclude = [] };
            }
            catch (Exception e) when (e is not ClusterRejectedException and not OperationCanceledException && DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(wait, ct).ConfigureAwait(false);
        }
    }

    private static async ValueTask DisposeQuietly(IAsyncEnumerator<TokenChunk> enumerator)
    {
        try
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The worker may be gone; there is nothing left to release on our side.
        }
    }
}
