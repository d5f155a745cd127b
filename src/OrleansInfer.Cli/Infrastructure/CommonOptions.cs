using System.CommandLine;
using OrleansInfer.Backends.Cpu;

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
}

/// <summary>The engine limits generate and bench take: KV pool, block size, per-step token and sequence caps.</summary>
internal sealed class EngineLimitOptions
{
    public Option<int?> KvBlocks { get; } = new("--kv-blocks") { Description = "KV cache blocks to allocate (default: from a 1 GiB budget)" };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Token slots per KV block", DefaultValueFactory = _ => 16 };
    public Option<int> MaxBatchedTokens { get; } = new("--max-num-batched-tokens") { Description = "Most tokens per forward pass", DefaultValueFactory = _ => 512 };
    public Option<int> MaxSequences { get; } = new("--max-num-seqs") { Description = "Most sequences per forward pass", DefaultValueFactory = _ => 256 };

    public void AddTo(Command command)
    {
        command.Options.Add(KvBlocks);
        command.Options.Add(BlockSize);
        command.Options.Add(MaxBatchedTokens);
        command.Options.Add(MaxSequences);
    }

    public CpuRunnerOptions ToRunnerOptions(ParseResult r, int threads)
    {
        var options = new CpuRunnerOptions
        {
            Threads = threads,
            KvBlocks = r.GetValue(KvBlocks),
            BlockSize = r.GetValue(BlockSize),
            MaxBatchTokens = r.GetValue(MaxBatchedTokens),
            MaxBatchSequences = r.GetValue(MaxSequences),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliException($"invalid engine limit: {e.Message.Split(Environment.NewLine)[0]}");
        }
        return options;
    }
}
