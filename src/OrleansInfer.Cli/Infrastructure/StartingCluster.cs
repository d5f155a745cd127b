using System.Runtime.CompilerServices;
using OrleansInfer.Abstractions;
using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// The cluster as `serve`'s gateway sees it while its silo loads the model: no models and no workers (so /ready says
/// not ready and the status page shows an empty cluster), and every request refused at once with 503 / UNAVAILABLE and
/// a Retry-After. Once <see cref="MarkStarted"/> is called, everything goes to the real cluster.
/// </summary>
internal sealed class StartingCluster(IInferenceCluster cluster) : IInferenceCluster
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);
    private volatile bool _started;

    /// <summary>The silo's workers are ready: from now on every call reaches the cluster.</summary>
    public void MarkStarted() => _started = true;

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken) =>
        _started ? cluster.ListModelsAsync(cancellationToken) : Task.FromResult<IReadOnlyList<string>>([]);

    public Task<ServedModel> GetModelAsync(string? name, CancellationToken cancellationToken) =>
        _started ? cluster.GetModelAsync(name, cancellationToken) : throw Loading();

    public IAsyncEnumerable<TokenChunk> GenerateAsync(ServedModel model, GenerateRequest request, CancellationToken cancellationToken) =>
        _started ? cluster.GenerateAsync(model, request, cancellationToken) : WhenStarted(model, request, cancellationToken);

    public Task<IReadOnlyList<WorkerLoad>> GetWorkersAsync(string? model, CancellationToken cancellationToken) =>
        _started ? cluster.GetWorkersAsync(model, cancellationToken) : Task.FromResult<IReadOnlyList<WorkerLoad>>([]);

    private static GatewayException Loading() =>
        new(GatewayErrorKind.Unavailable, "the server is still loading the model; try again shortly", retryAfter: RetryAfter);

    /// <summary>Refuses at the first read unless the silo became ready since the call.</summary>
    private async IAsyncEnumerable<TokenChunk> WhenStarted(ServedModel model, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!_started) throw Loading();
        await foreach (var chunk in cluster.GenerateAsync(model, request, cancellationToken).ConfigureAwait(false)) yield return chunk;
    }
}
