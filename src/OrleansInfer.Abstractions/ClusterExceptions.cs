namespace OrleansInfer.Abstractions;

/// <summary>Why the cluster could not take a request.</summary>
public enum ClusterRejection
{
    /// <summary>No worker has KV room for the prompt and its expected output, and their queues are full.</summary>
    NoCapacity = 0,

    /// <summary>No live, healthy worker serves the model (the router waited its bounded time for one).</summary>
    NoWorkers = 1,

    /// <summary>The request itself is invalid (a parameter, or a prompt too long for the model).</summary>
    InvalidRequest = 2,
}

/// <summary>Admission control: the cluster refuses the request at once instead of queueing it without bound.</summary>
[GenerateSerializer]
public sealed class ClusterRejectedException : Exception
{
    public ClusterRejectedException(ClusterRejection reason, string message) : base(message)
    {
        Reason = reason;
    }

    [Id(0)] public ClusterRejection Reason { get; private set; }

    /// <summary>True when trying again later (or elsewhere) can succeed.</summary>
    public bool IsTransient => Reason != ClusterRejection.InvalidRequest;
}

/// <summary>
/// A worker failed the request through no fault of the request (its engine step failed, or it is stopping): the
/// request can be resumed on another worker with what was delivered.
/// </summary>
[GenerateSerializer]
public sealed class WorkerFaultException : Exception
{
    public WorkerFaultException(string worker, string message) : base(message)
    {
        Worker = worker;
    }

    /// <summary>The key of the worker that failed.</summary>
    [Id(0)] public string Worker { get; private set; }
}
