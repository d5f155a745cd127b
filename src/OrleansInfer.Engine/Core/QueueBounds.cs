using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Admission control over the waiting queue: requests and tokens waiting for their first admission, bounded so a
/// burst is refused at once instead of queued without limit. Safe from any thread.
/// </summary>
internal sealed class QueueBounds(SchedulerOptions limits)
{
    private int _requests;
    private long _tokens;

    /// <summary>Tokens a request brings to the queue: its prompt and the resumed tokens it recomputes.</summary>
    public static long TokensOf(GenerationRequest request)
    {
        long tokens = request.PromptTokens.Length;
        foreach (var o in request.Resumed)
        {
            if (o.Finished is null) tokens += o.Tokens.Length;
        }
        return tokens;
    }

    /// <summary>Takes room for one request of <paramref name="tokens"/>, or throws <see cref="RequestRejectedException"/>.</summary>
    public void Reserve(long tokens)
    {
        if (Interlocked.Increment(ref _requests) > limits.MaxWaitingRequests)
        {
            Interlocked.Decrement(ref _requests);
            throw new RequestRejectedException(RejectionReason.QueueFull, $"the waiting queue is full ({limits.MaxWaitingRequests} requests); retry later");
        }
        if (Interlocked.Add(ref _tokens, tokens) > limits.MaxQueuedTokens)
        {
            Interlocked.Add(ref _tokens, -tokens);
            Interlocked.Decrement(ref _requests);
            throw new RequestRejectedException(RejectionReason.QueuedTokensFull, $"the waiting queue holds its maximum of {limits.MaxQueuedTokens} prompt tokens; retry later");
        }
    }

    /// <summary>Gives back what <see cref="Reserve"/> took (the request was admitted, or ended while waiting).</summary>
    public void Release(long tokens)
    {
        Interlocked.Decrement(ref _requests);
        Interlocked.Add(ref _tokens, -tokens);
    }
}
