using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Silo.Tests;

/// <summary>A real runner that fails every step with sequences while its switch is on (a GPU that keeps faulting).</summary>
public sealed class FaultyRunner(IModelRunner inner, FaultSwitch faults) : IModelRunner
{
    public const string Message = "injected runner fault (device error 700)";

    public LlamaConfig Config => inner.Config;
    public KvCacheInfo KvCache => inner.KvCache;
    public int MaxBatchTokens => inner.MaxBatchTokens;
    public int MaxBatchSequences => inner.MaxBatchSequences;
    public string DeviceName => inner.DeviceName;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        if (faults.On && batch.SequenceCount > 0) throw new InvalidOperationException(Message);
        inner.Execute(batch, logits);
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>Turns a <see cref="FaultyRunner"/>'s faults on and off.</summary>
public sealed class FaultSwitch
{
    public volatile bool On;
}
