namespace OrleansInfer.Grains.Workers;

/// <summary>
/// A worker's cluster-internal operations: the silo host starts and drains it, the router moves its waiting work.
/// Internal to the grains assembly (and its host and tests): clients, which see only
/// <see cref="Abstractions.IWorkerGrain"/>, cannot move, drain or stop a worker.
/// </summary>
internal interface IWorkerControl : IGrainWithStringKey
{
    /// <summary>Activates the worker (idempotent).</summary>
    Task Start();

    /// <summary>Pushes a load report to the router now: the silo asks each of its workers every report period.</summary>
    Task ReportNow();

    /// <summary>
    /// Hands up to <paramref name="maxCount"/> requests that are waiting for KV room to <paramref name="targetWorker"/>:
    /// their streams end with a move, and their callers resume them there. Returns how many moved.
    /// </summary>
    Task<int> MoveWaiting(string targetWorker, int maxCount);

    /// <summary>Hands one request off to <paramref name="targetWorker"/>; false if it is unknown, finished or cannot move.</summary>
    Task<bool> MoveRequest(string requestId, string targetWorker);

    /// <summary>
    /// Stops taking new requests; waiting ones are placed elsewhere at once, running ones may finish until
    /// <paramref name="timeout"/>, then the rest are moved. Returns how many requests were moved.
    /// </summary>
    Task<int> Drain(TimeSpan timeout);

    /// <summary>Completes when the engine holds no request (or the timeout passes: false).</summary>
    Task<bool> WaitForIdle(TimeSpan timeout);
}
