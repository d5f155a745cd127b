using OrleansInfer.Abstractions;

namespace OrleansInfer.Gateway.Inference;

/// <summary>
/// What the protocol front-ends (gRPC, OpenAI HTTP) need of the cluster: models, admission-controlled generation with
/// typed errors (<see cref="GatewayException"/>), and worker status (<see cref="GatewayReadiness"/> judges readiness
/// from it). <see cref="ClusterInference"/> is the real one.
/// </summary>
public interface IInferenceCluster
{
    /// <summary>Ids of the models the cluster serves.</summary>
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>The model <paramref name="name"/> (or the only one when null or empty); NotFound when unknown.</summary>
    Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken);

    /// <summary>
    /// Admits <paramref name="request"/> (Overloaded at once beyond the queue bound) and streams it through the cluster.
    /// Cancelling ends the request on its worker; the request timeout gives Timeout. Every failure is a GatewayException.
    /// </summary>
    IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, CancellationToken cancellationToken);

    /// <summary>Every worker of <paramref name="model"/> (or of every model when null) as its router last saw it.</summary>
    Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken);
}
