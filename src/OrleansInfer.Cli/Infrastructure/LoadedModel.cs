using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>A model file, its tokenizer and (when asked for) a runner over it on the chosen backend, disposed together.</summary>
internal sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelFile file, Tokenizer tokenizer, IModelRunner? runner, string backend)
    {
        File = file;
        Tokenizer = tokenizer;
        Runner = runner;
        Backend = backend;
    }

    public ModelFile File { get; }

    public Tokenizer Tokenizer { get; }

    public IModelRunner? Runner { get; }

    /// <summary>"cpu" or "ilgpu".</summary>
    public string Backend { get; }

    public LlamaConfig Config => File.Config!;

    public static ModelFile OpenFile(string path, string? tokenizer, bool requireWeights = true)
    {
        if (!System.IO.File.Exists(path)) throw new CliException($"model file not found: {path}");
        if (tokenizer is not null && !System.IO.File.Exists(tokenizer)) throw new CliException($"tokenizer file not found: {tokenizer}");
        return ModelFile.Open(path, tokenizer, requireWeights);
    }

    public static LoadedModel Load(string path, string? tokenizer, RunnerChoice? runnerOptions, TextWriter error)
    {
        var file = OpenFile(path, tokenizer, requireWeights: runnerOptions is not null);
        try
        {
            var tok = Tokenizer.Create(file.Vocabulary);
            IModelRunner? runner = null;
            if (runnerOptions is not null)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                error.WriteLine($"loading {Path.GetFileName(path)} ({file.Config!.Describe()}) on the {runnerOptions.Backend} backend");
                runner = CreateRunner(file, runnerOptions);
                var kv = runner.KvCache;
                error.WriteLine($"loaded in {clock.Elapsed.TotalSeconds:F1} s on {runner.DeviceName}, KV cache {kv.BlockCount} blocks of {kv.BlockSize} tokens ({kv.TotalBytes / (1 << 20)} MiB, {KvCacheDataTypes.Name(kv.DataType)}, {kv.TokenBytes} bytes per token)");
                if (runner is IlgpuModelRunner gpu) error.WriteLine($"device memory: {gpu.Memory.Describe()}");
            }
            return new LoadedModel(file, tok, runner, runnerOptions?.Backend ?? "none");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A runner on the chosen backend; a missing or failing CUDA device becomes a one-line CLI error.</summary>
    public static IModelRunner CreateRunner(ModelFile file, RunnerChoice choice)
    {
        try
        {
            KvCacheDataTypes.EnsureSupported(choice.Cpu.KvCacheDataType, file.Config!);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--kv-cache-dtype: {e.Message}");
        }
        if (choice.Backend != "ilgpu") return new CpuModelRunner(file, choice.Cpu);
        try
        {
            return new IlgpuModelRunner(file, choice.Ilgpu);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("CUDA", StringComparison.Ordinal))
        {
            throw new CliException(e.Message);
        }
    }

    public void Dispose()
    {
        Runner?.Dispose();
        File.Dispose();
    }
}
