using OrleansInfer.Backends.Cpu;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.LlamaCppPeer;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;
using OrleansInfer.Model.Tokenization;
using OrleansInfer.Testing;

namespace OrleansInfer.Conformance.Tests;

/// <summary>
/// A temporary folder, deleted on dispose, holding GGUF files our writer converted from the shared
/// llama2.c checkpoint (stories260K.bin + tok512.bin).
/// </summary>
public sealed class ConvertedFolder : IDisposable
{
    public ConvertedFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"orleansinfer-conformance-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Converts stories260K.bin + tok512.bin to a GGUF with matrices of <paramref name="type"/>.</summary>
    public string Convert(GgmlType type)
    {
        var output = System.IO.Path.Combine(Path, $"stories260K-{GgmlTypeInfo.Name(type)}.gguf");
        using var m = ModelFile.Open(SharedData.Stories260KBin, SharedData.Tok512);
        LlamaGguf.Convert(m, output, type);
        return output;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind must not fail the run.
        }
    }
}

/// <summary>
/// Our side of a comparison: a converted file opened with <see cref="ModelFile"/> and run by
/// <see cref="CpuModelRunner"/> on one thread, with greedy generation through the engine (<see cref="LlmEngine"/>).
/// </summary>
public sealed class OurEngine : IDisposable
{
    public OurEngine(string path)
    {
        Model = ModelFile.Open(path);
        try
        {
            // 64 blocks of 16 slots hold every prompt the tests batch together; the default 1 GiB pool is not needed.
            Runner = new CpuModelRunner(Model, new CpuRunnerOptions { Threads = 1, KvBlocks = 64 });
        }
        catch
        {
            Model.Dispose();
            throw;
        }
        Tokenizer = Tokenizer.Create(Model.Vocabulary);
    }

    public ModelFile Model { get; }

    public CpuModelRunner Runner { get; }

    public Tokenizer Tokenizer { get; }

    /// <summary>Greedy tokens for each prompt, all generated together in one continuous batch.</summary>
    public int[][] GenerateGreedy(IReadOnlyList<int[]> prompts, int maxTokens)
    {
        // A fresh engine per call: its block manager must not trust KV blocks that PromptLogits wrote meanwhile.
        using var engine = new LlmEngine(Runner, Tokenizer);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };
        var streams = prompts.Select(p => engine.Submit(new GenerationRequest(p, sampling))).ToList();
        return Task.WhenAll(streams.Select(s => s.CollectAsync())).GetAwaiter().GetResult().Select(r => r.Output.TokenIds).ToArray();
    }

    /// <summary>The logits at the last prompt position of one prefill from an empty KV cache.</summary>
    public float[] PromptLogits(int[] prompt)
    {
        var vocab = Runner.Config.VocabSize;
        var blocks = new BlockManager(Runner.KvCache.BlockCount, Runner.KvCache.BlockSize, enablePrefixCaching: false);
        var table = new SequenceBlocks();
        if (!blocks.TryAllocate(table, prompt.Length)) throw new InvalidOperationException($"the KV pool cannot hold {prompt.Length} tokens");
        const long sequence = long.MaxValue; // never used by the generator, which counts up from 0
        var batch = new ForwardBatch();
        var logits = new float[vocab];
        batch.UpdateBlocks(sequence, 0, table.Ids.ToArray());
        batch.AddSequence(sequence, 0, prompt, computeLogits: true);
        Runner.Execute(batch, logits);
        batch.Clear();
        batch.Release(sequence);
        Runner.Execute(batch, Span<float>.Empty);
        return logits;
    }

    public void Dispose()
    {
        Runner.Dispose();
        Model.Dispose();
    }
}

/// <summary>stories260K converted to an f32 GGUF, loaded once in llama.cpp (1 thread, F32 KV cache) and in our CPU runner.</summary>
public sealed class F32ModelFixture : IDisposable
{
    public F32ModelFixture()
    {
        Folder = new ConvertedFolder();
        try
        {
            Path = Folder.Convert(GgmlType.F32);
            LlamaCpp = new LlamaCppSession(Path, threads: 1, contextSize: 512);
            Ours = new OurEngine(Path);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ConvertedFolder Folder { get; }

    public string Path { get; } = "";

    public LlamaCppSession LlamaCpp { get; } = null!;

    public OurEngine Ours { get; } = null!;

    public void Dispose()
    {
        Ours?.Dispose();
        LlamaCpp?.Dispose();
        Folder.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class F32ModelCollection : ICollectionFixture<F32ModelFixture>
{
    public const string Name = "stories260K f32 GGUF in llama.cpp and ours";
}

/// <summary>stories260K converted to f16 and q8_0 GGUFs, each loaded once in llama.cpp (1 thread, F32 KV cache) and in our CPU runner.</summary>
public sealed class QuantizedModelsFixture : IDisposable
{
    public QuantizedModelsFixture()
    {
        Folder = new ConvertedFolder();
        try
        {
            foreach (var type in Types)
            {
                var path = Folder.Convert(type);
                Paths[type] = path;
                LlamaCpp[type] = new LlamaCppSession(path, threads: 1, contextSize: 512);
                Ours[type] = new OurEngine(path);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static readonly GgmlType[] Types = [GgmlType.F16, GgmlType.Q8_0];

    public ConvertedFolder Folder { get; }

    public Dictionary<GgmlType, string> Paths { get; } = [];

    public Dictionary<GgmlType, LlamaCppSession> LlamaCpp { get; } = [];

    public Dictionary<GgmlType, OurEngine> Ours { get; } = [];

    public void Dispose()
    {
        foreach (var o in Ours.Values) o.Dispose();
        foreach (var s in LlamaCpp.Values) s.Dispose();
        Folder.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class QuantizedModelsCollection : ICollectionFixture<QuantizedModelsFixture>
{
    public const string Name = "stories260K f16 and q8_0 GGUFs in llama.cpp and ours";
}
