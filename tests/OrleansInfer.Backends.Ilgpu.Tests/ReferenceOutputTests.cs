using OrleansInfer.GpuCheck;
using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.Backends.Ilgpu.Tests;

/// <summary>The whole model on ILGPU's CPU accelerator reproduces llama2.c's greedy reference on stories260K.</summary>
public sealed class ReferenceOutputTests
{
    /// <summary>All reference prompts decode together, one sequence each, so the 64 steps run once (the emulator is slow).</summary>
    [Fact]
    public void GreedyTokensAndLogitsMatchTheReferenceWithAllCasesInOneBatch()
    {
        using var model = ModelFile.Open(SharedData.Stories260KGguf);
        using var runner = new IlgpuModelRunner(model, CpuAccelerator.Options(kvBlocks: 64, splitLength: 32));
        var outcome = ModelRuns.GreedyReference(runner, SharedData.Reference);
        for (var i = 0; i < outcome.Length; i++)
        {
            Assert.True(outcome[i].TokensMatch, $"case {i}: greedy tokens differ from the reference");
            Assert.True(outcome[i].MaxLogitDiff <= 1e-3, $"case {i}: logits differ from the reference by {outcome[i].MaxLogitDiff} (at most 1e-3 expected)");
        }
    }
}
