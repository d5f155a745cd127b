namespace OrleansInfer.Abstractions;

/// <summary>
/// The front of one accelerator's inference engine (one worker per accelerator, pinned to its silo and device;
/// the key is <see cref="WorkerKeys.Format"/>). Calls interleave: the engine runs on its own thread and every
/// request streams independently. Operations of the cluster itself (load reports, moves, drain) are not on
/// this interface: clients cannot call them.
/// </summary>
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs a request (new, or resumed from the outputs it carries) and streams its chunks; an empty chunk is a
    /// heartbeat, sent each second the engine has nothing new. Cancelling the token drops the request and frees
    /// its KV blocks. A request handed off to another worker ends with a chunk whose
    /// <see cref="TokenChunk.MovedTo"/> names it. A second call with the same <see cref="GenerateRequest.RequestId"/>
    /// replaces the first (a client reconnecting through another gateway): the first stream ends.
    /// </summary>
    /// <exception cref="ClusterRejectedException">The request is invalid, or this worker is draining or full.</exception>
    /// <exception cref="WorkerFaultException">The worker's engine failed the request; resume it elsewhere.</exception>
    IAsyncEnumerable<TokenChunk> Generate(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>The worker's current load and health, read from its engine now.</summary>
    Task<WorkerLoad> GetLoad();

    /// <summary>The model's tokenizer vocabulary, for clients that tokenize prompts themselves.</summary>
    Task<VocabularyData> GetVocabulary();
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
