namespace OrleansInfer.Client;

/// <summary>
/// Tells streams when the client lost a gateway (Orleans' gateway-count event): a stream whose messages went through
/// it hears nothing more, and re-attaches to its worker through another gateway instead of waiting for silence.
/// </summary>
public sealed class GatewayWatch
{
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next gateway loss.</summary>
    public Task NextLoss => Volatile.Read(ref _lost).Task;

    /// <summary>Feeds Orleans' gateway-count changes; a drop in the count is a loss.</summary>
    public void OnGatewayCountChanged(int connected, int previouslyConnected)
    {
        if (connected < previouslyConnected) SignalLoss();
    }

    public void SignalLoss()
    {
        var lost = Interlocked.Exchange(ref _lost, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lost.TrySetResult();
    }
}
