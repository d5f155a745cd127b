namespace OrleansInfer.Grains.Catalog;

/// <summary>The catalog's cluster-internal side: workers register themselves; a new router activation reads them back.</summary>
internal interface ICatalogRegistry : IGrainWithIntegerKey
{
    /// <summary>Notes that <paramref name="workerKey"/> serves <paramref name="modelId"/> (idempotent).</summary>
    Task Register(string modelId, string workerKey);

    /// <summary>The workers registered for <paramref name="modelId"/> whose silos are not dead.</summary>
    Task<string[]> WorkersOf(string modelId);
}
