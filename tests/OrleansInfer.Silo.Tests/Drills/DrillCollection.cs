namespace OrleansInfer.Silo.Tests;

/// <summary>Fault drills run one at a time, alone: each starts several processes on a small machine.</summary>
[CollectionDefinition(nameof(DrillCollection), DisableParallelization = true)]
public sealed class DrillCollection;
