using System.CommandLine;
using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>
/// The runner options the eval commands take: backend, device, threads, KV cache type and budget. The KV pool is
/// sized for the windows evaluated together (every window needs its own blocks), not from the engine's defaults.
/// </summary>
internal sealed class EvalRunnerOptions
{
    /// <summary>The KV budget the windows evaluated together share when --kv-cache-mib is not given.</summary>
    public const int DefaultKvCacheMiB = 1024;

    private const int BlockSize = 16;

    public Option<string> Backend { get; } = Choice("--backend", "cpu (SIMD on all cores) or ilgpu (CUDA when present, see --device)", "cpu", "cpu", "ilgpu");
    public Option<string> Device { get; } = Choice("--device", "For --backend ilgpu: auto, cuda, or cpu (ILGPU's CPU accelerator)", "auto", "auto", "cuda", "cpu");
    public Option<int> Threads { get; } = CommonOptions.Threads();
    public Option<int> KvCacheMiB { get; } = new("--kv-cache-mib") { Description = "KV cache budget shared by the windows evaluated together", DefaultValueFactory = _ => DefaultKvCacheMiB };
    public Option<int> MaxBatchSequences { get; } = new("--max-num-seqs") { Description = "Most windows evaluated together", DefaultValueFactory = _ => 64 };

    public static Option<string> KvCacheType(string name, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => "f32",
    };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Backend, Device, Threads, KvCacheMiB, MaxBatchSequences }) command.Options.Add(o);
    }

    public static KvCacheDataType ParseKvType(string option, string value) =>
        KvCacheDataTypes.TryParse(value, out var t) ? t : throw new CliException($"{option}: unknown KV cache type '{value}' (f32, f16 or q8_0)");

    /// <summary>Options for a runner evaluating windows of <paramref name="positions"/> positions, <paramref name="windows"/> of them.</summary>
    public RunnerChoice For(ParseResult r, LlamaConfig config, KvCacheDataType kvType, int positions, int windows)
    {
        var backend = r.GetValue(Backend)!;
        var device = r.GetValue(Device)!;
        var threads = r.GetValue(Threads);
        if (threads < 1) throw new CliException("--threads must be at least 1");
        if (backend == "cpu" && device != "auto") throw new CliException("--device applies to --backend ilgpu");
        if (positions > config.ContextLength) throw new CliException($"{positions} positions exceed the model's context of {config.ContextLength}");
        var budget = (long)Math.Max(1, r.GetValue(KvCacheMiB)) << 20;
        var blocksPerWindow = WindowEvaluator.BlocksPerWindow(positions, BlockSize);
        var windowBytes = KvCacheInfo.BytesPerToken(config, kvType) * BlockSize * blocksPerWindow;
        var together = (int)Math.Clamp(budget / windowBytes, 1, Math.Min(windows, Math.Max(1, r.GetValue(MaxBatchSequences))));
        var cpu = new CpuRunnerOptions
        {
            Threads = threads,
            BlockSize = BlockSize,
            KvBlocks = together * blocksPerWindow,
            KvCacheDataType = kvType,
            MaxBatchTokens = Math.Max(512, together),
            MaxBatchSequences = together,
        };
        var ilgpu = new IlgpuRunnerOptions
        {
            Device = device switch { "cuda" => IlgpuDevice.Cuda, "cpu" => IlgpuDevice.Cpu, _ => IlgpuDevice.Auto },
            BlockSize = BlockSize,
            KvBlocks = cpu.KvBlocks,
            KvCacheDataType = kvType,
            MaxBatchTokens = cpu.MaxBatchTokens,
            MaxBatchSequences = together,
            CpuMultiprocessors = threads,
        };
        if (backend == "ilgpu" && device != "cpu")
        {
            var cuda = IlgpuDevices.Probe();
            if (cuda.Problem == CudaProblem.InitializationFailed) throw new CliException($"--backend ilgpu: {cuda.Detail}", ExitCodes.Failure);
            if (device == "cuda" && cuda.DeviceCount == 0) throw new CliException($"--device cuda: no CUDA device found ({cuda.Detail})");
        }
        return new RunnerChoice(backend, cpu, ilgpu);
    }

    private static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var o = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.AcceptOnlyFromAmong(values);
        return o;
    }
}
