namespace OrleansInfer.Abstractions;

/// <summary>
/// The front of one accelerator's inference engine (one worker per accelerator, pinned to its silo and device;
/// the key is <see cref="WorkerKeys.Format"/>). Calls interleave: the engine runs on its own thread and every
/// request streams independently.
/// </summary>
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs a request (new, or resumed from the tokens it carries) and streams its chunks. Cancelling the token
    /// drops the request and frees its KV blocks. A request handed off to another worker ends with a chunk whose
    /// <see cref="TokenChunk.MovedTo"/> names it.
    /// </summary>
    /// <exception cref="ClusterRejectedException">The request is invalid, or this worker is draining or full.</exception>
    IAsyncEnumerable<TokenChunk> Generate(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Activates the worker and starts its load reports to the router (idempotent).</summary>
    Task Start();

    /// <summary>The worker's current load, read from its engine now.</summary>
    Task<WorkerLoad> GetLoad();

    /// <summary>Pushes a load report to the router now (besides the periodic ones).</summary>
    Task ReportNow();

    /// <summary>
    /// Hands up to <paramref name="maxCount"/> requests that are waiting for KV room to <paramref name="targetWorker"/>:
    /// their streams end with a move, and their callers resume them there. Returns how many moved.
    /// </summary>
    Task<int> MoveWaiting(string targetWorker, int maxCount);

    /// <summary>Exports a running request's state and ends its stream with a move to <paramref name="targetWorker"/>; null if unknown or finished.</summary>
    Task<SequenceState?> Export(string requestId, string targetWorker);

    /// <summary>
    /// Stops taking new requests; waiting ones are handed to the router for other workers, running ones may
    /// finish until <paramref name="timeout"/>, then the rest are moved. Returns how many requests were moved.
    /// </summary>
    Task<int> Drain(TimeSpan timeout);

    /// <summary>Completes when the engine holds no request (or the timeout passes: false).</summary>
    Task<bool> WaitForIdle(TimeSpan timeout);

    /// <summary>The model's tokenizer vocabulary, for clients that tokenize prompts themselves.</summary>
    Task<VocabularyData> GetVocabulary();
}

/// <summary>
/// Places requests on workers for one model (the key is the model id). Workers push their load every few hundred
/// milliseconds, so placing never calls anyone. The policy is pluggable: kv-aware (default), least-loaded,
/// round-robin, prefix-aware.
/// </summary>
public interface IRouterGrain : IGrainWithStringKey
{
    /// <summary>Chooses a worker for the request.</summary>
    /// <exception cref="ClusterRejectedException">No live worker, or none has room (admission control).</exception>
    Task<PlacementDecision> Place(PlacementRequest request);

    /// <summary>A worker's periodic load report.</summary>
    Task ReportLoad(WorkerLoad load);

    /// <summary>A worker leaves (draining or its silo stopping): no more placements on it.</summary>
    Task Forget(string workerKey);

    /// <summary>The router's current view of the workers, by key.</summary>
    Task<WorkerLoad[]> GetWorkers();

    /// <summary>Sets the placement policy by name: kv-aware, least-loaded, round-robin or prefix-aware.</summary>
    Task SetPolicy(string policy);

    /// <summary>Completes when at least <paramref name="count"/> workers have reported (false on timeout).</summary>
    Task<bool> WaitForWorkers(int count, TimeSpan timeout);

    /// <summary>Runs one rebalancing pass now (it also runs after reports); returns the requests moved.</summary>
    Task<int> Rebalance();
}

/// <summary>Worker grain keys: "{silo address}|{device ordinal}|{model id}", so the placement director knows where a worker lives.</summary>
public static class WorkerKeys
{
    public static string Format(string siloAddress, int device, string modelId) => $"{siloAddress}|{device}|{modelId}";

    public static (string Silo, int Device, string ModelId) Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 3 || !int.TryParse(parts[1], out var device))
            throw new ArgumentException($"'{key}' is not a worker key (silo|device|model)", nameof(key));
        return (parts[0], device, parts[2]);
    }
}
