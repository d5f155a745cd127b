using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Testing;

namespace OrleansInfer.Sdk.Tests;

/// <summary>The SDK's backend choice: the ILGPU backend (on its CPU accelerator here) gives the greedy reference tokens.</summary>
public sealed class BackendTests
{
    [Fact]
    public async Task IlgpuBackendOnTheCpuAcceleratorGivesTheReferenceTokens()
    {
        var reference = SharedData.Reference.Cases[0];
        await using var engine = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf,
            new InferenceEngineOptions { Backend = InferenceBackend.Ilgpu, Device = IlgpuDevice.Cpu, Threads = 2, KvBlocks = 16 });
        Assert.Contains("ILGPU CPU accelerator", engine.DeviceName);
        var result = await engine.CompleteAsync(reference.Prompt, new SamplingParams { Temperature = 0, MaxTokens = 8 });
        Assert.Equal(reference.GeneratedTokenIds[..8], result.Outputs[0].TokenIds);
    }

    [Fact]
    public async Task TheCpuBackendIsTheDefault()
    {
        await using var engine = await InferenceEngine.LoadAsync(SharedData.Stories260KGguf, new InferenceEngineOptions { Threads = 1 });
        Assert.StartsWith("CPU", engine.DeviceName);
    }
}
