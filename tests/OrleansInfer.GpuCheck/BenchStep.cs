using System.Diagnostics;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Model;

namespace OrleansInfer.GpuCheck;

/// <summary>
/// Throughput on a (synthetic) model: prefill tokens/s, single-sequence decode tokens/s with the memory bandwidth
/// it implies (a decode step reads every weight once), and batched decode at batch 1, 8, 32 and 128.
/// </summary>
public static class BenchStep
{
    public static int Run(Options o, Results results)
    {
        var path = o.Model ?? throw new ArgumentException("bench needs --model PATH");
        using var model = ModelFile.Open(path);
        var c = model.Config!;
        var clock = Stopwatch.StartNew();
        using var runner = new IlgpuModelRunner(model, new IlgpuRunnerOptions
        {
            Device = o.Device, MaxBatchTokens = 512, MaxBatchSequences = 128, CpuWarpSize = 4, KvCacheBytes = o.Quick ? 64L << 20 : null,
        });
        Console.WriteLine($"{Path.GetFileName(path)} ({c.Describe()}) loaded in {clock.Elapsed.TotalSeconds:F1} s on {runner.DeviceName}");
        Console.WriteLine($"  {runner.Memory.Describe()}, {runner.KvCache.BlockCount} KV blocks");
        results.Add("bench", "model", $"{Path.GetFileName(path)}, weights {runner.Memory.WeightBytes / 1e9:F2} GB", "info");
        var peak = PeakBandwidth(runner.DeviceName);
        var rng = new Random(1);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(1, c.VocabSize)).ToArray();
        var driver = new StepDriver(runner);

        // Prefill: one sequence of P tokens in one step, after a warm-up step of the same shape.
        var p = o.Quick ? 32 : Math.Min(512, c.ContextLength / 2);
        double prefillRate = 0;
        for (var rep = 0; rep < 3; rep++)
        {
            var prompt = Prompt(p);
            clock.Restart();
            driver.Run([(rep, 0, prompt, true)]);
            if (rep > 0) prefillRate = Math.Max(prefillRate, p / clock.Elapsed.TotalSeconds);
            driver.ReleaseAll();
        }
        Console.WriteLine($"  prefill {p} tokens: {prefillRate:F0} tokens/s");
        results.Add("bench", $"prefill ({p} tokens)", $"{prefillRate:F0} tokens/s", "info");

        // Single-sequence decode.
        var steps = o.Quick ? 4 : 128;
        var rate = Decode(driver, 1, steps, Prompt);
        var bytes = runner.Memory.WeightBytes;
        var bandwidth = rate * bytes;
        var fraction = peak is { } pk ? bandwidth / pk : double.NaN;
        var verdict = double.IsNaN(fraction) ? "info" : fraction >= 0.6 ? "ok (target 60%)" : "below 60% target";
        Console.WriteLine($"  decode, 1 sequence: {rate:F1} tokens/s, {bandwidth / 1e9:F0} GB/s{(peak is null ? "" : $" = {fraction:P0} of {peak / 1e12:F2} TB/s")}");
        results.Add("bench", "decode 1 seq", $"{rate:F1} tok/s, {bandwidth / 1e9:F0} GB/s{(peak is null ? "" : $", {fraction:P0} of peak")}", verdict);

        // Batched decode: throughput should grow near-linearly while the weights dominate.
        var batches = o.Quick ? new[] { 1, 2 } : [1, 8, 32, 128];
        double single = 0;
        foreach (var b in batches)
        {
            var r = Decode(driver, b, o.Quick ? 3 : 16, Prompt) * b;
            if (b == 1) single = r;
            Console.WriteLine($"  decode, batch {b}: {r:F0} tokens/s ({r / single:F1}x batch 1)");
            results.Add("bench", $"decode batch {b}", $"{r:F0} tok/s ({r / single:F1}x batch 1)", "info");
        }
        return 0;
    }

    /// <summary>Per-sequence decode tokens/s of <paramref name="batch"/> sequences after 16-token prompts (one warm-up step).</summary>
    private static double Decode(StepDriver driver, int batch, int steps, Func<int, int[]> prompt)
    {
        const int promptLength = 16;
        var work = new List<(long, int, int[], bool)>();
        for (var s = 0; s < batch; s++)
        {
            work.Add((s, 0, prompt(promptLength), true));
            if (work.Count * promptLength >= 512 || s == batch - 1)
            {
                driver.Run(work);
                work.Clear();
            }
        }
        var token = new[] { 7 };
        void Step(int pos)
        {
            work.Clear();
            for (var s = 0; s < batch; s++) work.Add((s, pos, token, true));
            driver.Run(work);
        }
        Step(promptLength);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= steps; i++) Step(promptLength + i);
        var rate = steps / clock.Elapsed.TotalSeconds;
        driver.ReleaseAll();
        return rate;
    }

    /// <summary>Peak memory bandwidth (bytes/s) by card name; null when unknown.</summary>
    public static double? PeakBandwidth(string deviceName) => deviceName switch
    {
        _ when deviceName.Contains("H200", StringComparison.OrdinalIgnoreCase) => 4.8e12,
        _ when deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase) && deviceName.Contains("PCIe", StringComparison.OrdinalIgnoreCase) => 2.0e12,
        _ when deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase) => 3.35e12,
        _ when deviceName.Contains("A100", StringComparison.OrdinalIgnoreCase) => 2.0e12,
        _ => null,
    };
}
