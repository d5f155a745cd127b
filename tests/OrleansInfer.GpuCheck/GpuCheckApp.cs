using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.GpuCheck.Families;

namespace OrleansInfer.GpuCheck;

/// <summary>
/// `gpu-check device|kernels|reference|families|bench|table [--device auto|cuda|cpu] [--results DIR] ...`: the steps of
/// .ci/gpu-check.sh. Each step appends rows (section, name, value, verdict) to DIR/results.tsv; `table` prints them.
/// Exit code 1 when a check fails.
/// </summary>
public static class GpuCheckApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        await Task.Yield();
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: gpu-check device|kernels|reference|families|bench|table [--device auto|cuda|cpu] [--results DIR] [--model PATH] [--reference JSON] [--quick]");
            return 2;
        }
        var options = Options.Parse(args[1..]);
        var results = new Results(options.ResultsDir);
        try
        {
            return args[0] switch
            {
                "device" => Device(options, results),
                "kernels" => KernelStep.Run(options, results),
                "reference" => ReferenceStep.Run(options, results),
                "families" => FamilyStep.Run(options, results),
                "bench" => BenchStep.Run(options, results),
                "table" => results.PrintTable(),
                _ => Usage(args[0]),
            };
        }
        catch (Exception e)
        {
            // One line in the table, the details in the log.
            Console.WriteLine(e);
            results.Add(args[0], "error", e.Message.Split('\n')[0], "FAIL");
            return 1;
        }
    }

    private static int Usage(string step)
    {
        Console.Error.WriteLine($"unknown step '{step}'");
        return 2;
    }

    private static int Device(Options o, Results results)
    {
        using var h = new KernelHarness(o.Device);
        Console.WriteLine($"ILGPU picked: {h.DeviceName}");
        results.Add("device", "accelerator", h.DeviceName, "info");
        return 0;
    }
}

/// <summary>Command-line options shared by the steps.</summary>
public sealed record Options(IlgpuDevice Device, string ResultsDir, string? Model, string? Reference, bool Quick)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var device = Value("--device") switch
        {
            "cuda" => IlgpuDevice.Cuda,
            "cpu" => IlgpuDevice.Cpu,
            _ => IlgpuDevice.Auto,
        };
        var dir = Value("--results") ?? Environment.GetEnvironmentVariable("OUT") ?? "/tmp/gpu-check";
        return new Options(device, dir, Value("--model"), Value("--reference"), args.Contains("--quick"));
    }
}

/// <summary>The rows every step appends to results.tsv, and the closing table.</summary>
public sealed class Results(string dir)
{
    private string File => Path.Combine(dir, "results.tsv");

    public void Add(string section, string name, string value, string verdict)
    {
        Directory.CreateDirectory(dir);
        System.IO.File.AppendAllText(File, $"{section}\t{name}\t{value}\t{verdict}\n");
    }

    public int PrintTable()
    {
        if (!System.IO.File.Exists(File))
        {
            Console.WriteLine($"no results at {File}");
            return 1;
        }
        var rows = System.IO.File.ReadAllLines(File).Select(l => l.Split('\t')).Where(r => r.Length == 4).ToList();
        int w0 = rows.Max(r => r[0].Length), w1 = rows.Max(r => r[1].Length), w2 = Math.Min(60, rows.Max(r => r[2].Length));
        Console.WriteLine();
        Console.WriteLine("== GPU check summary ==");
        foreach (var r in rows) Console.WriteLine($"{r[0].PadRight(w0)}  {r[1].PadRight(w1)}  {r[2].PadRight(w2)}  {r[3]}");
        return rows.Any(r => r[3] == "FAIL") ? 1 : 0;
    }
}
