namespace OrleansInfer.Abstractions;

/// <summary>Why the cluster could not take a request.</summary>
public enum ClusterRejection
{
    /// <summary>No worker has KV room for the prompt and its expected output.</summary>
    NoCapacity = 0,

    /// <summary>No live worker serves the model.</summary>
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
}
