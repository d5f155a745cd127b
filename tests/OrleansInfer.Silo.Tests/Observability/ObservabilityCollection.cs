namespace OrleansInfer.Silo.Tests.Observability;

/// <summary>The observability tests run one at a time: each starts Prometheus, the OTLP receiver or a cluster on a small machine.</summary>
[CollectionDefinition(nameof(ObservabilityCollection), DisableParallelization = true)]
public sealed class ObservabilityCollection;
