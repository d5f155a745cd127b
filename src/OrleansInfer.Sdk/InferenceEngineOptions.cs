using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer;

/// <summary>Which backend runs the model.</summary>
public enum InferenceBackend
{
    /// <summary>SIMD kernels on all CPU cores.</summary>
    Cpu,

    /// <summary>ILGPU: CUDA when present (see <see cref="InferenceEngineOptions.Device"/>).</summary>
    Ilgpu,
}

/// <summary>Everything <see cref="InferenceEngine.LoadAsync"/> can be told: backend, tokenizer, threads, KV budget, scheduler limits.</summary>
public sealed record InferenceEngineOptions
{
    public InferenceBackend Backend { get; init; } = InferenceBackend.Cpu;

    /// <summary>For <see cref="InferenceBackend.Ilgpu"/>: Auto (CUDA when present), Cuda, or Cpu (ILGPU's CPU accelerator, for tests).</summary>
    public IlgpuDevice Device { get; init; } = IlgpuDevice.Auto;

    /// <summary>For the ILGPU backend on CUDA: the fraction of free device memory the KV pool takes.</summary>
    public double GpuMemoryUtilization { get; init; } = 0.9;

    /// <summary>A llama2.c tokenizer.bin or GGUF vocabulary (needed for llama2.c checkpoints, optional for GGUF).</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>A Jinja chat template file replacing the model's tokenizer.chat_template (it must parse, or loading fails).</summary>
    public string? ChatTemplatePath { get; init; }

    /// <summary>The model's name in chat responses; the file name without its extension by default.</summary>
    public string? ModelId { get; init; }

    /// <summary>Compute threads; all cores by default.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Memory for the KV cache when <see cref="KvBlocks"/> is not given (CPU backend and ILGPU's CPU accelerator; CUDA uses <see cref="GpuMemoryUtilization"/>).</summary>
    public long KvCacheBytes { get; init; } = 1L << 30;

    /// <summary>KV blocks to allocate (overrides <see cref="KvCacheBytes"/>).</summary>
    public int? KvBlocks { get; init; }

    /// <summary>Token slots per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>How the KV cache stores keys and values: f32 (default), f16 (half the bytes per token) or q8_0 (head sizes multiples of 32).</summary>
    public KvCacheDataType KvCacheDataType { get; init; } = KvCacheDataType.F32;

    /// <summary>Tokens per engine step (prompt chunks plus decodes).</summary>
    public int MaxNumBatchedTokens { get; init; } = 512;

    /// <summary>Sequences per engine step.</summary>
    public int MaxNumSeqs { get; init; } = 256;

    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.Fcfs;

    public int MaxWaitingRequests { get; init; } = 4096;

    public long MaxQueuedTokens { get; init; } = 4L << 20;

    public bool EnablePrefixCaching { get; init; } = true;

    internal CpuRunnerOptions ToRunnerOptions() => new()
    {
        Threads = Threads,
        KvCacheBytes = KvCacheBytes,
        KvBlocks = KvBlocks,
        BlockSize = BlockSize,
        MaxBatchTokens = MaxNumBatchedTokens,
        MaxBatchSequences = MaxNumSeqs,
        KvCacheDataType = KvCacheDataType,
    };

    internal IlgpuRunnerOptions ToIlgpuOptions() => new()
    {
        Device = Device,
        GpuMemoryUtilization = GpuMemoryUtilization,
        KvCacheBytes = KvCacheBytes,
        KvBlocks = KvBlocks,
        BlockSize = BlockSize,
        MaxBatchTokens = MaxNumBatchedTokens,
        MaxBatchSequences = MaxNumSeqs,
        CpuMultiprocessors = Threads,
        KvCacheDataType = KvCacheDataType,
    };

    internal EngineOptions ToEngineOptions() => new()
    {
        Scheduler = new SchedulerOptions
        {
            MaxNumBatchedTokens = MaxNumBatchedTokens,
            MaxNumSeqs = MaxNumSeqs,
            Policy = Policy,
            MaxWaitingRequests = MaxWaitingRequests,
            MaxQueuedTokens = MaxQueuedTokens,
            EnablePrefixCaching = EnablePrefixCaching,
        },
    };
}
