namespace OrleansInfer.Engine.Outputs;

/// <summary>Why the engine turned a valid request away at submission.</summary>
public enum RejectionReason
{
    /// <summary>The waiting queue holds its maximum number of requests.</summary>
    QueueFull,

    /// <summary>The waiting queue holds its maximum number of prompt tokens.</summary>
    QueuedTokensFull,

    /// <summary>The engine is shutting down.</summary>
    ShuttingDown,
}

/// <summary>Admission control: the request was refused at once, not queued without bound.</summary>
public sealed class RequestRejectedException(RejectionReason reason, string message) : InvalidOperationException(message)
{
    public RejectionReason Reason { get; } = reason;
}
