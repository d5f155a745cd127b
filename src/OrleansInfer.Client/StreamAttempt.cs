using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;

namespace OrleansInfer.Client;

/// <summary>How one attempt on one worker ended.</summary>
internal enum AttemptEnd
{
    /// <summary>The worker's stream ended normally.</summary>
    Completed,

    /// <summary>The worker handed the request to <see cref="StreamAttempt.MovedTo"/>.</summary>
    Moved,

    /// <summary>The stream went quiet after the client lost a gateway: re-attach to the same worker.</summary>
    Reattach,

    /// <summary>The worker failed, refused, or went silent: <see cref="StreamAttempt.Error"/> says how.</summary>
    Failed,
}

/// <summary>
/// One call to one worker: yields its chunks (heartbeats and progress included) until it ends, is handed off, goes
/// silent for the silence limit, or goes quiet after a gateway loss. Late chunks of an abandoned call are never read.
/// </summary>
internal sealed class StreamAttempt(ClusterStreamOptions options, GatewayWatch? gateways)
{
    public AttemptEnd End { get; private set; }

    public Exception? Error { get; private set; }

    public string? MovedTo { get; private set; }

    public async IAsyncEnumerable<TokenChunk> Run(IWorkerGrain worker, GenerateRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        var time = options.Time;
        var enumerator = worker.Generate(request, ct).GetAsyncEnumerator(ct);
        var lastHeard = time.GetUtcNow();
        DateTimeOffset? gatewayLostAt = null;
        var loss = gateways?.NextLoss ?? Task.Delay(Timeout.Infinite, CancellationToken.None);
        var abandoned = false;
        try
        {
            while (true)
            {
                var next = enumerator.MoveNextAsync().AsTask();
                while (!next.IsCompleted)
                {
                    var now = time.GetUtcNow();
                    if (now - lastHeard >= options.SilenceLimit)
                    {
                        (End, Error, abandoned) = (AttemptEnd.Failed, new TimeoutException($"the worker sent nothing for {options.SilenceLimit.TotalSeconds:0.#} s"), true);
                        yield break;
                    }
                    if (gatewayLostAt is { } lost && now - lost >= options.ReattachAfterGatewayLoss)
                    {
                        (End, abandoned) = (AttemptEnd.Reattach, true);
                        yield break;
                    }
                    var wake = options.SilenceLimit - (now - lastHeard);
                    if (gatewayLostAt is { } since) wake = TimeSpan.FromTicks(Math.Min(wake.Ticks, (options.ReattachAfterGatewayLoss - (now - since)).Ticks));
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    await Task.WhenAny(next, loss, Task.Delay(wake, time, timer.Token)).ConfigureAwait(false);
                    timer.Cancel();
                    ct.ThrowIfCancellationRequested();
                    if (loss.IsCompleted)
                    {
                        gatewayLostAt = time.GetUtcNow();
                        loss = gateways!.NextLoss;
                    }
                }

                TokenChunk chunk;
                try
                {
                    if (!await next.ConfigureAwait(false))
                    {
                        End = AttemptEnd.Completed;
                        yield break;
                    }
                    chunk = enumerator.Current;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception e)
                {
                    (End, Error, abandoned) = (AttemptEnd.Failed, e, true);
                    yield break;
                }

                lastHeard = time.GetUtcNow();
                gatewayLostAt = null; // it still hears from its worker: that gateway is alive
                if (chunk.MovedTo is { } target)
                {
                    (End, MovedTo) = (AttemptEnd.Moved, target);
                    yield break;
                }
                yield return chunk;
            }
        }
        finally
        {
            // An abandoned call may take Orleans' response timeout to give up: let it go in the background.
            var disposing = DisposeQuietly(enumerator);
            if (!abandoned) await disposing.ConfigureAwait(false);
        }
    }

    private static async Task DisposeQuietly(IAsyncEnumerator<TokenChunk> enumerator)
    {
        try
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The worker may be gone; there is nothing left to release on this side.
        }
    }
}
