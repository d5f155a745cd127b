using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansInfer.Backends.Cpu;
using OrleansInfer.Backends.Ilgpu;
using OrleansInfer.Engine.Core;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Engine.Telemetry;
using OrleansInfer.Grains.Workers;
using OrleansInfer.Model;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Silo;

/// <summary>Builds a model runner for one device of this machine.</summary>
public delegate IModelRunner RunnerFactory(ModelFile model, int device, SiloOptions options);

/// <summary>
/// The engines of this silo: the model opened once, one runner and one engine (with its own loop thread) per
/// accelerator: every CUDA device, or without one <see cref="SiloOptions.CpuWorkers"/> CPU engines sharing the cores.
/// A CUDA driver that is installed but fails to initialise stops an ilgpu silo (<see cref="CudaInitializationException"/>)
/// and makes an auto silo warn before it falls back to CPU workers.
/// </summary>
public sealed class WorkerEngines : IWorkerEngines, IAsyncDisposable
{
    private readonly ModelFile _model;
    private readonly List<IModelRunner> _runners = [];
    private readonly List<LlmEngine> _engines = [];

    /// <param name="options">The silo's settings.</param>
    /// <param name="runnerFactory">Builds the runners (tests); null discovers this machine's accelerators.</param>
    /// <param name="logger">Where backend discovery says what it found (a failing CUDA driver is a warning).</param>
    /// <param name="engineLogger">Where each engine logs its failed steps.</param>
    public WorkerEngines(SiloOptions options, RunnerFactory? runnerFactory = null, ILogger<WorkerEngines>? logger = null, ILogger<LlmEngine>? engineLogger = null)
        : this(options, runnerFactory, logger, IlgpuDevices.Probe, engineLogger)
    {
    }

    /// <summary>With the CUDA probe given (tests simulate a failing driver).</summary>
    internal WorkerEngines(SiloOptions options, RunnerFactory? runnerFactory, ILogger<WorkerEngines>? logger, Func<CudaProbe> probeCuda, ILogger<LlmEngine>? engineLogger = null)
    {
        options.Validate();
        ModelId = options.ResolvedModelId;
        _model = ModelFile.Open(options.Model!, options.Tokenizer);
        try
        {
            try
            {
                KvCacheDataTypes.EnsureSupported(options.KvCacheDataType, _model.Config!);
            }
            catch (ArgumentException e)
            {
                throw new SiloConfigurationException($"{SiloOptions.Section}:{nameof(SiloOptions.KvCacheDtype)}", e.Message);
            }
            var vocabulary = options.ChatTemplate is null ? _model.Vocabulary : _model.Vocabulary with { ChatTemplate = File.ReadAllText(options.ChatTemplate) };
            var tokenizer = Tokenizer.Create(vocabulary);
            var (factory, devices) = runnerFactory is not null ? (runnerFactory, options.CpuWorkers) : Discover(options, probeCuda, logger ?? NullLogger<WorkerEngines>.Instance);
            for (var device = 0; device < devices; device++)
            {
                var runner = factory(_model, device, options);
                var kv = runner.KvCache;
                (logger ?? NullLogger<WorkerEngines>.Instance).LogInformation("worker {Device} on {Runner}: KV cache {Blocks} blocks of {BlockSize} tokens ({MiB} MiB, {DataType}, {TokenBytes} bytes per token)",
                    device, runner.DeviceName, kv.BlockCount, kv.BlockSize, kv.TotalBytes >> 20, KvCacheDataTypes.Name(kv.DataType), kv.TokenBytes);
                if (options.StepDelayMs > 0) runner = new DelayedRunner(runner, TimeSpan.FromMilliseconds(options.StepDelayMs));
                _runners.Add(runner);
                _engines.Add(new LlmEngine(runner, tokenizer, new EngineOptions
                {
                    Scheduler = new SchedulerOptions { MaxNumBatchedTokens = options.MaxNumBatchedTokens, MaxNumSeqs = options.MaxNumSeqs, MaxWaitingRequests = options.MaxWaitingRequests },
                    MaxConsecutiveFailures = options.MaxConsecutiveFailures,
                    // Worker and silo labels: set by OrleansInferSilo.AddServices, which knows the silo's address.
                    TelemetryLabels = new TelemetryLabels { Model = ModelId, Device = runner.DeviceName },
                }, engineLogger));
            }
            Devices = Enumerable.Range(0, _engines.Count).ToArray();
        }
        catch
        {
            foreach (var r in _runners) r.Dispose();
            _model.Dispose();
            throw;
        }
    }

    public string ModelId { get; }

    public IReadOnlyList<int> Devices { get; }

    public LlamaConfig Config => _model.Config!;

    public LlmEngine Get(int device) => device >= 0 && device < _engines.Count
        ? _engines[device]
        : throw new ArgumentOutOfRangeException(nameof(device), device, $"this silo has {_engines.Count} worker device(s)");

    public string Describe(int device) => Get(device).DeviceName;

    /// <summary>
    /// The runner kind and device count this machine offers for the configured backend. Without a CUDA driver,
    /// ilgpu runs one worker on ILGPU's CPU accelerator and auto runs CPU workers; a driver that fails is an
    /// error for ilgpu and a warning for auto.
    /// </summary>
    private static (RunnerFactory Factory, int Devices) Discover(SiloOptions o, Func<CudaProbe> probeCuda, ILogger logger)
    {
        if (o.Backend == "cpu") return (CpuRunner, o.CpuWorkers);
        var cuda = probeCuda();
        if (cuda.DeviceCount > 0)
        {
            logger.LogInformation("--backend {Backend}: {Devices} CUDA device(s), one ILGPU worker each", o.Backend, cuda.DeviceCount);
            return (IlgpuRunner, cuda.DeviceCount);
        }
        if (cuda.Problem == CudaProblem.InitializationFailed)
        {
            if (o.Backend == "ilgpu") throw new CudaInitializationException($"--backend ilgpu: {cuda.Detail}", cuda);
            logger.LogWarning("--backend auto: {Cause}; starting {Workers} CPU worker(s) instead", cuda.Detail, o.CpuWorkers);
            return (CpuRunner, o.CpuWorkers);
        }
        if (o.Backend == "ilgpu")
        {
            logger.LogInformation("--backend ilgpu: {Cause}; one worker on ILGPU's CPU accelerator", cuda.Detail);
            return (IlgpuRunner, 1);
        }
        logger.LogInformation("--backend auto: {Cause}; starting {Workers} CPU worker(s)", cuda.Detail, o.CpuWorkers);
        return (CpuRunner, o.CpuWorkers);
    }

    public static IModelRunner IlgpuRunner(ModelFile model, int device, SiloOptions o) => new IlgpuModelRunner(model, new IlgpuRunnerOptions
    {
        Device = IlgpuDevices.CudaDeviceCount() > 0 ? IlgpuDevice.Cuda : IlgpuDevice.Cpu,
        CudaDeviceIndex = device,
        KvBlocks = o.KvBlocks,
        BlockSize = o.BlockSize,
        GpuMemoryUtilization = o.GpuMemoryUtilization,
        MaxBatchTokens = o.MaxNumBatchedTokens,
        MaxBatchSequences = o.MaxNumSeqs,
        KvCacheDataType = o.KvCacheDataType,
    });

    public static IModelRunner CpuRunner(ModelFile model, int device, SiloOptions o) => new CpuModelRunner(model, new CpuRunnerOptions
    {
        Threads = o.Threads ?? Math.Max(1, Environment.ProcessorCount / o.CpuWorkers),
        KvBlocks = o.KvBlocks,
        KvCacheBytes = o.KvCacheBytes,
        BlockSize = o.BlockSize,
        MaxBatchTokens = o.MaxNumBatchedTokens,
        MaxBatchSequences = o.MaxNumSeqs,
        KvCacheDataType = o.KvCacheDataType,
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var e in _engines) await e.DisposeAsync();
        foreach (var r in _runners) r.Dispose();
        _model.Dispose();
    }
}

/// <summary>A runner that waits before every step: a throttle for failover drills and demos.</summary>
internal sealed class DelayedRunner(IModelRunner inner, TimeSpan delay) : IModelRunner
{
    public OrleansInfer.Model.LlamaConfig Config => inner.Config;
    public KvCacheInfo KvCache => inner.KvCache;
    public int MaxBatchTokens => inner.MaxBatchTokens;
    public int MaxBatchSequences => inner.MaxBatchSequences;
    public string DeviceName => inner.DeviceName;

    public void Execute(ForwardBatch batch, Span<float> logits)
    {
        if (batch.SequenceCount > 0) Thread.Sleep(delay);
        inner.Execute(batch, logits);
    }

    public void Dispose() => inner.Dispose();
}
