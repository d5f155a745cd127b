using System.CommandLine;
using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>Options several commands share; each command gets its own instances.</summary>
internal static class CommonOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "Model file: GGUF, or a llama2.c .bin checkpoint (with --tokenizer)",
        Required = required,
    };

    public static Option<string?> Tokenizer() => new("--tokenizer")
    {
        Description = "Tokenizer file: llama2.c tokenizer.bin or a GGUF whose vocabulary to use",
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Compute threads (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Machine-readable JSON output",
    };

    /// <summary>How the KV cache stores keys and values; parsed by <see cref="ParseKvCacheDtype"/> (a bad name is one line, exit 2).</summary>
    public static Option<string> KvCacheDtype() => new("--kv-cache-dtype")
    {
        Description = $"KV cache encoding: {KvCacheDataTypes.Names} (f16 halves the bytes per token; q8_0 needs head sizes that are multiples of 32)",
        DefaultValueFactory = _ => "f32",
    };

    public static KvCacheDataType ParseKvCacheDtype(string name) =>
        KvCacheDataTypes.TryParse(name, out var type) ? type : throw new CliException($"--kv-cache-dtype must be one of {KvCacheDataTypes.Names}, got '{name}'");
}

/// <summary>
/// The engine limits generate and bench take: backend and device, KV pool, block size, per-step token and sequence
/// caps. `--backend ilgpu` asks the CUDA driver first: a driver that fails to initialise is an error (exit 1), not a
/// silent fall back to the emulator; without a driver `--device auto` emulates and `--device cuda` is refused.
/// </summary>
internal sealed class EngineLimitOptions
{
    /// <summary>Asks the CUDA driver about this machine (tests substitute a failing one).</summary>
    public Func<CudaProbe> ProbeCuda { get; init; } = IlgpuDevices.Probe;

    public Option<string> Backend { get; } = CreateBackend();
    public Option<string> Device { get; } = CreateDevice();
    public Option<int?> KvBlocks { get; } = new("--kv-blocks") { Description = "KV cache blocks to allocate (default: from a 1 GiB budget)" };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Token slots per KV block", DefaultValueFactory = _ => 16 };
    public Option<int> MaxBatchedTokens { get; } = new("--max-num-batched-tokens") { Description = "Most tokens per forward pass", DefaultValueFactory = _ => 512 };
    public Option<int> MaxSequences { get; } = new("--max-num-seqs") { Description = "Most sequences per forward pass", DefaultValueFactory = _ => 256 };
    public Option<bool> NoPrefixCaching { get; } = new("--no-prefix-caching") { Description = "Do not reuse KV blocks of earlier prompts with the same prefix" };
    public Option<string> KvCacheDtype { get; } = CommonOptions.KvCacheDtype();

    private static Option<string> CreateBackend()
    {
        var o = new Option<string>("--backend") { Description = "cpu (SIMD on all cores) or ilgpu (CUDA when present, see --device)", DefaultValueFactory = _ => "cpu" };
        o.AcceptOnlyFromAmong("cpu", "ilgpu");
        return o;
    }

    private static Option<string> CreateDevice()
    {
        var o = new Option<string>("--device") { Description = "For --backend ilgpu: auto (CUDA when present), cuda, or cpu (ILGPU's CPU accelerator, slow: for tests)", DefaultValueFactory = _ => "auto" };
        o.AcceptOnlyFromAmong("auto", "cuda", "cpu");
        return o;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Device);
        command.Options.Add(KvBlocks);
        command.Options.Add(BlockSize);
        command.Options.Add(MaxBatchedTokens);
        command.Options.Add(MaxSequences);
        command.Options.Add(NoPrefixCaching);
        command.Options.Add(KvCacheDtype);
    }

    public EngineOptions ToEngineOptions(ParseResult r) => new()
    {
        Scheduler = new SchedulerOptions
        {
            MaxNumBatchedTokens = r.GetValue(MaxBatchedTokens),
            MaxNumSeqs = r.GetValue(MaxSequences),
            EnablePrefixCaching = !r.GetValue(NoPrefixCaching),
        },
    };

    public RunnerChoice ToRunnerOptions(ParseResult r, int threads)
    {
        var backend = r.GetValue(Backend)!;
        var device = r.GetValue(Device)!;
        if (backend == "cpu" && device != "auto") throw new CliException("--device applies to --backend ilgpu");
        var kvType = CommonOptions.ParseKvCacheDtype(r.GetValue(KvCacheDtype)!);
        var cpu = new CpuRunnerOptions
        {
            Threads = threads,
            KvBlocks = r.GetValue(KvBlocks),
            BlockSize = r.GetValue(BlockSize),
            MaxBatchTokens = r.GetValue(MaxBatchedTokens),
            MaxBatchSequences = r.GetValue(MaxSequences),
            KvCacheDataType = kvType,
        };
        var ilgpu = new IlgpuRunnerOptions
        {
            Device = device switch { "cuda" => IlgpuDevice.Cuda, "cpu" => IlgpuDevice.Cpu, _ => IlgpuDevice.Auto },
            KvBlocks = cpu.KvBlocks,
            BlockSize = cpu.BlockSize,
            MaxBatchTokens = cpu.MaxBatchTokens,
            MaxBatchSequences = cpu.MaxBatchSequences,
            CpuMultiprocessors = threads,
            KvCacheDataType = kvType,
        };
        try
        {
            cpu.Validate();
            ilgpu.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliException($"invalid engine limit: {e.Message.Split(Environment.NewLine)[0]}");
        }
        if (backend == "ilgpu" && device != "cpu") RequireUsableCuda(device);
        return new RunnerChoice(backend, cpu, ilgpu);
    }

    private void RequireUsableCuda(string device)
    {
        var cuda = ProbeCuda();
        if (cuda.Problem == CudaProblem.InitializationFailed) throw new CliException($"--backend ilgpu: {cuda.Detail}", ExitCodes.Failure);
        if (device == "cuda" && cuda.DeviceCount == 0) throw new CliException($"--device cuda: no CUDA device found ({cuda.Detail})");
    }
}

/// <summary>The backend a command runs on ("cpu" or "ilgpu") with the options of each.</summary>
internal sealed record RunnerChoice(string Backend, CpuRunnerOptions Cpu, IlgpuRunnerOptions Ilgpu);
