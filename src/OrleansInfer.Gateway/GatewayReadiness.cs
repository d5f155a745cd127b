using OrleansInfer.Gateway.Inference;

namespace OrleansInfer.Gateway;

/// <summary>
/// Whether the gateway can serve: not draining, and every model the cluster serves has a healthy worker that is not
/// draining (a model without one would fail its requests). Asked by /ready and the gRPC health service; one check is
/// the model list and one status read per model's router, bounded by <see cref="Timeout"/>.
/// </summary>
public sealed class GatewayReadiness(IInferenceCluster cluster, GatewayState state, TimeSpan? timeout = null)
{
    /// <summary>The longest a check waits for the cluster (default 5 s); beyond it the gateway is not ready.</summary>
    public TimeSpan Timeout { get; } = timeout ?? TimeSpan.FromSeconds(5);

    /// <summary>Null when ready; otherwise why not ("draining", "no ready worker for model 'x'", ...).</summary>
    public async Task<string?> NotReadyReasonAsync(CancellationToken cancellationToken)
    {
        if (state.Draining) return "draining";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            var models = await cluster.ListModelsAsync(deadline.Token).ConfigureAwait(false);
            if (models.Count == 0) return "the cluster serves no model yet";
            var workers = await cluster.GetWorkersAsync(null, deadline.Token).ConfigureAwait(false);
            var ready = workers.Where(w => w.Healthy && !w.Draining).Select(w => w.ModelId).ToHashSet(StringComparer.Ordinal);
            var missing = models.Where(m => !ready.Contains(m)).ToList();
            return missing.Count == 0 ? null : $"no ready worker for model {string.Join(", ", missing.Select(m => $"'{m}'"))}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the cluster did not answer within {Timeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"the cluster cannot be asked: {e.Message.Split('\n')[0]}";
        }
    }
}
