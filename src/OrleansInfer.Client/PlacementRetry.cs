using OrleansInfer.Abstractions;

namespace OrleansInfer.Client;

/// <summary>
/// Asks a model's router for a worker, retrying what can pass (no live worker yet, a full cluster, a router on a
/// dead silo, a timed-out call) with bounded exponential backoff until a deadline; an invalid request fails at once.
/// </summary>
internal sealed class PlacementRetry(ClusterStreamOptions options)
{
    /// <exception cref="ClusterRejectedException">Invalid, or still refused (or unreachable) at the deadline.</exception>
    public async Task<PlacementDecision> PlaceAsync(IRouterGrain router, PlacementRequest request, DateTimeOffset deadline, CancellationToken ct, Action<Exception>? onRetry = null)
    {
        var backoff = options.InitialBackoff;
        while (true)
        {
            Exception failure;
            try
            {
                return await router.Place(request).WaitAsync(options.PlacementCallTimeout, options.Time, ct).ConfigureAwait(false);
            }
            catch (ClusterRejectedException e) when (!e.IsTransient)
            {
                throw;
            }
            catch (ClusterRejectedException e) when (e.Reason == ClusterRejection.NoWorkers && request.Exclude.Length > 0)
            {
                // Only the workers this request failed on are left: their failure may have been passing (a gateway, not
                // the worker), so they are tried again rather than refusing.
                request = request with { Exclude = [] };
                continue;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                failure = e;
            }

            if (options.Time.GetUtcNow() + backoff > deadline) throw Final(failure);
            onRetry?.Invoke(failure);
            await Task.Delay(backoff, options.Time, ct).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
        }
    }

    /// <summary>The error a request fails with when the deadline passes: a rejection as it came, anything else as NoWorkers.</summary>
    private static ClusterRejectedException Final(Exception last) => last as ClusterRejectedException
        ?? new ClusterRejectedException(ClusterRejection.NoWorkers, $"no worker could be reached before the deadline; last error: {last.GetType().Name}: {last.Message.Split('\n')[0]}");
}
