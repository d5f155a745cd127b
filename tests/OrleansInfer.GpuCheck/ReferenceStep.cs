using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Model;
using OrleansInfer.Testing;

namespace OrleansInfer.GpuCheck;

/// <summary>The greedy reference of stories260K on the ILGPU runner, and mixed batches against the CPU backend.</summary>
public static class ReferenceStep
{
    public static int Run(Options o, Results results)
    {
        var modelPath = o.Model ?? throw new ArgumentException("reference needs --model stories260K.gguf");
        var reference = GreedyReference.Load(o.Reference ?? throw new ArgumentException("reference needs --reference stories260K-greedy.json"));
        using var model = ModelFile.Open(modelPath);
        using var runner = new IlgpuModelRunner(model, new IlgpuRunnerOptions { Device = o.Device, KvBlocks = 64, MaxBatchTokens = 128, MaxBatchSequences = 16, CpuWarpSize = 4 });
        Console.WriteLine($"greedy reference on {runner.DeviceName}");
        var outcome = ModelRuns.GreedyReference(runner, reference);
        var failed = 0;
        for (var i = 0; i < outcome.Length; i++)
        {
            var ok = outcome[i].TokensMatch && outcome[i].MaxLogitDiff <= 1e-3;
            if (!ok) failed++;
            Console.WriteLine($"  case {i} \"{reference.Cases[i].Prompt}\": tokens {(outcome[i].TokensMatch ? "match" : "DIFFER")}, max logit diff {outcome[i].MaxLogitDiff:E2}");
            results.Add("reference", $"case {i}", $"tokens {(outcome[i].TokensMatch ? "match" : "differ")}, max logit diff {outcome[i].MaxLogitDiff:E2}", ok ? "ok" : "FAIL");
        }

        using var cpu = new CpuModelRunner(model, new CpuRunnerOptions { Threads = Math.Min(4, Environment.ProcessorCount), KvBlocks = 64, BlockSize = 16 });
        using var gpu = new IlgpuModelRunner(model, new IlgpuRunnerOptions { Device = o.Device, KvBlocks = 64, MaxBatchTokens = 128, MaxBatchSequences = 16, CpuWarpSize = 4, AttentionSplitLength = 32 });
        var diff = ModelRuns.CompareMixedBatches(cpu, gpu, reference.Cases[0].PromptTokenIds, [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298], o.Quick ? 4 : 24);
        var same = diff <= 1e-3;
        if (!same) failed++;
        Console.WriteLine($"  mixed batches (chunked prefill, fork with block copy, decode) vs the CPU backend: max logit diff {diff:E2}");
        results.Add("reference", "vs CPU backend", $"max logit diff {diff:E2} (chunked prefill + fork + decode)", same ? "ok" : "FAIL");
        return failed == 0 ? 0 : 1;
    }
}
