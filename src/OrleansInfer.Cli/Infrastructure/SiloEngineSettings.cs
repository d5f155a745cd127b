using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Silo;
using OrleansInfer.Silo.Http;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>The model and engine flags a silo takes (`silo`, `serve`), applied over the configuration only when given.</summary>
internal sealed class SiloEngineSettings
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "Model file (GGUF or llama2.c .bin); or OrleansInfer:Model in configuration" };
    public Option<string?> Tokenizer { get; } = CommonOptions.Tokenizer();
    public Option<string?> ChatTemplate { get; } = TemplateFiles.ChatTemplateOption();
    public Option<string?> ModelId { get; }
    public Option<string?> Backend { get; } = new("--backend") { Description = "auto (a worker per CUDA device, else CPU workers), cpu or ilgpu" };
    public Option<int?> Workers { get; } = new("--workers") { Description = "CPU workers (each its own engine)" };
    public Option<int?> Threads { get; } = new("--threads", "-t") { Description = "Threads per CPU worker" };
    public Option<int?> KvBlocks { get; } = new("--kv-blocks") { Description = "KV blocks per worker" };
    public Option<int?> BlockSize { get; } = new("--block-size") { Description = "Token slots per KV block" };
    public Option<int?> Batched { get; } = new("--max-num-batched-tokens") { Description = "Tokens per engine step" };
    public Option<int?> Seqs { get; } = new("--max-num-seqs") { Description = "Sequences per engine step" };
    public Option<string?> KvCacheDtype { get; } = new("--kv-cache-dtype") { Description = "KV cache encoding: f32 (default), f16 or q8_0" };

    public SiloEngineSettings(string modelIdName = "--model-id", string modelIdDescription = "Id clients route by (default: the file name)")
    {
        ModelId = new Option<string?>(modelIdName) { Description = modelIdDescription };
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Tokenizer, ChatTemplate, ModelId, Backend, Workers, Threads, KvBlocks, BlockSize, Batched, Seqs, KvCacheDtype }) command.Options.Add(o);
    }

    /// <summary>Flags win over configuration, but only the flags actually given.</summary>
    public void Apply(ParseResult r, SiloOptions o)
    {
        if (r.GetValue(Model) is { } m) o.Model = m;
        if (r.GetValue(Tokenizer) is { } t) o.Tokenizer = t;
        if (r.GetValue(ChatTemplate) is { } template) o.ChatTemplate = template;
        if (r.GetValue(ModelId) is { } id) o.ModelId = id;
        if (r.GetValue(Backend) is { } b) o.Backend = b;
        if (r.GetValue(Workers) is { } w) o.CpuWorkers = w;
        if (r.GetValue(Threads) is { } th) o.Threads = th;
        if (r.GetValue(KvBlocks) is { } kv) o.KvBlocks = kv;
        if (r.GetValue(BlockSize) is { } bs) o.BlockSize = bs;
        if (r.GetValue(Batched) is { } mb) o.MaxNumBatchedTokens = mb;
        if (r.GetValue(Seqs) is { } ms) o.MaxNumSeqs = ms;
        if (r.GetValue(KvCacheDtype) is { } dtype) o.KvCacheDtype = OrleansInfer.Engine.Runner.KvCacheDataTypes.Name(CommonOptions.ParseKvCacheDtype(dtype));
    }

    /// <summary>Opens the silo's HTTP port (when it has one) before the model loads: a port in use is one line, exit code 1.</summary>
    public static async Task StartHttpAsync(Microsoft.Extensions.Hosting.IHost host, SiloOptions options, CancellationToken ct)
    {
        try
        {
            await host.Services.GetRequiredService<SiloHttpEndpoint>().EnsureStartedAsync(ct);
        }
        catch (IOException e)
        {
            throw new CliException($"cannot listen on {options.HttpHost}:{options.HttpPort}: {e.Message.Split('\n')[0]}", ExitCodes.Failure);
        }
    }

    /// <summary>Builds the model and engines before Orleans starts: a backend that cannot start is one line, not a host error log.</summary>
    public static void LoadEngines(Microsoft.Extensions.Hosting.IHost host)
    {
        try
        {
            host.Services.GetRequiredService<WorkerEngines>();
        }
        catch (CudaInitializationException e)
        {
            throw new CliException(e.Message, ExitCodes.Failure);
        }
        catch (SiloConfigurationException e)
        {
            throw new CliException($"invalid configuration: {e.Message}");
        }
    }
}
