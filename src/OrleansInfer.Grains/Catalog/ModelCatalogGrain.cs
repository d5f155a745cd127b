using OrleansInfer.Abstractions;

namespace OrleansInfer.Grains.Catalog;

/// <summary>The models workers have registered; in memory, refilled by the workers' reports after a move or failure.</summary>
public sealed class ModelCatalogGrain : Grain, IModelCatalogGrain
{
    private readonly SortedSet<string> _models = new(StringComparer.Ordinal);

    public Task Register(string modelId)
    {
        _models.Add(modelId);
        return Task.CompletedTask;
    }

    public Task<string[]> List() => Task.FromResult(_models.ToArray());
}
