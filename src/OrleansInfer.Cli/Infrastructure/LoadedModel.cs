using OrleansInfer.Backends.Cpu;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>A model file, its tokenizer and (when asked for) a CPU runner over it, disposed together.</summary>
internal sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelFile file, Tokenizer tokenizer, CpuModelRunner? runner)
    {
        File = file;
        Tokenizer = tokenizer;
        Runner = runner;
    }

    public ModelFile File { get; }

    public Tokenizer Tokenizer { get; }

    public CpuModelRunner? Runner { get; }

    public LlamaConfig Config => File.Config!;

    public static ModelFile OpenFile(string path, string? tokenizer, bool requireWeights = true)
    {
        if (!System.IO.File.Exists(path)) throw new CliException($"model file not found: {path}");
        if (tokenizer is not null && !System.IO.File.Exists(tokenizer)) throw new CliException($"tokenizer file not found: {tokenizer}");
        return ModelFile.Open(path, tokenizer, requireWeights);
    }

    public static LoadedModel Load(string path, string? tokenizer, CpuRunnerOptions? runnerOptions, TextWriter error)
    {
        var file = OpenFile(path, tokenizer, requireWeights: runnerOptions is not null);
        try
        {
            var tok = Tokenizer.Create(file.Vocabulary);
            CpuModelRunner? runner = null;
            if (runnerOptions is not null)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                error.WriteLine($"loading {Path.GetFileName(path)} ({file.Config!.Describe()})");
                runner = new CpuModelRunner(file, runnerOptions);
                error.WriteLine($"loaded in {clock.Elapsed.TotalSeconds:F1} s on {runner.DeviceName}, KV cache {runner.KvCache.BlockCount} blocks of {runner.KvCache.BlockSize} tokens ({runner.KvCache.TotalBytes / (1 << 20)} MiB)");
            }
            return new LoadedModel(file, tok, runner);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Runner?.Dispose();
        File.Dispose();
    }
}
