using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Grains.Tests;

/// <summary>A real runner that fails every step while its switch is on (a GPU that keeps faulting, a driver error).</summary>
public sealed class FaultyRunner(IModelRunner inner, FaultSwitch faults) : IModelRunner
{
    public LlamaConfig Config => inner.Config;
    public KvCacheInfo KvCache => inner.KvCache;
    public int MaxBatchTokens => inner.MaxBatchTokens;
    public int MaxBatchSequences => inner.MaxBatchSequences;
    public string DeviceName => inner.DeviceName;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        if (faults.On && batch.SequenceCount > 0)
        {
            Interlocked.Increment(ref faults.Failures);
            throw new InvalidOperationException("injected runner fault (device error 700)");
        }
        inner.Execute(batch, logits);
    }

    public void Dispose() => inner.Dispose();
}

public sealed class FaultSwitch
{
    public volatile bool On;
    public int Failures;
}
