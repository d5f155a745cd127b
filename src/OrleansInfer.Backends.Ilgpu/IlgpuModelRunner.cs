using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using OrleansInfer.Backends.Ilgpu.Kernels;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>
/// The Llama forward pass on an ILGPU accelerator (CUDA, or the CPU emulator for tests), over a paged KV pool in
/// device memory. Everything touching the accelerator runs on one dedicated thread (<see cref="AcceleratorThread"/>);
/// <see cref="Execute"/> posts the step there and waits. Weights are uploaded, kernels compiled and buffers
/// allocated once at construction; a step uploads one packed array of token metadata and reads back the logits.
/// </summary>
public sealed partial class IlgpuModelRunner : IModelRunner
{
    /// <summary>(token, head, split) partials the flash-decoding buffers hold; fewer splits are used when a step would need more.</summary>
    private const int PartialItemCapacity = 1 << 16;

    private readonly LlamaConfig _c;
    private readonly IlgpuRunnerOptions _options;
    private readonly AcceleratorThread _thread;
    private readonly BlockTables _tables = new();
    private Context? _context;
    private Accelerator? _accelerator;
    private KernelSet _k = null!;
    private DeviceWeights _w = null!;
    private readonly List<MemoryBuffer> _buffers = [];

    // KV pool: [layer][K | V][block][slot][layer's kv_dim] values in the options' data type, with its kernels.
    private DeviceKvCache? _kv;

    // Per layer: head counts, widths, KV offsets, RoPE table and window (see LayerPlan).
    private LayerPlan[] _plans = [];

    // Activations, sized for MaxBatchTokens (run.c names).
    private ArrayView<float> _x;       // (T, dim) residual stream
    private ArrayView<float> _xb;      // (T, max(dim, query_dim)) normed input, then attention output
    private ArrayView<float> _qkv;     // (T, QkvLd) fused q | k | v of the widest layer
    private ArrayView<float> _hb;      // (T, hidden) gated FFN output
    private ArrayView<float> _h13;     // (T, 2 hidden) W1 | W3 products of prefill-shaped steps
    private ArrayView<float> _post;    // (T, dim) Wo / W2 outputs awaiting a post norm (gemma), else unused
    private ArrayView<float> _xLogits; // (S, dim) final-normed rows that need logits
    private ArrayView<float> _logits;  // (S, vocab)
    private ArrayView<float> _partialAcc;   // (items, head_dim) flash-decoding partial outputs
    private ArrayView<float> _partialStats; // (items, 2) running max and sum per partial
    private ArrayView<float>[] _ropeCos = [];  // per distinct RoPE table: (context, rope_dims / 2), cos * scale
    private ArrayView<float>[] _ropeSin = [];
    private ArrayView<int> _meta;       // the step's packed metadata (see PackStep)

    public IlgpuModelRunner(ModelFile model, IlgpuRunnerOptions? options = null)
    {
        _options = options ?? new IlgpuRunnerOptions();
        _options.Validate();
        _c = model.Config ?? throw new ArgumentException("the model file has no weights", nameof(model));
        if (_c.HeadDim > PagedAttentionKernel.MaxHeadDim || _c.HeadDim % 2 != 0)
            throw new NotSupportedException($"head size {_c.HeadDim}: the ILGPU attention kernel takes even head sizes up to {PagedAttentionKernel.MaxHeadDim}");
        if (_c.Activation is not (FeedForwardActivation.Silu or FeedForwardActivation.GeluTanh))
            throw new NotSupportedException($"feed-forward activation {_c.Activation} is not supported by the ILGPU backend");
        KvCacheDataTypes.EnsureSupported(_options.KvCacheDataType, _c);
        MaxBatchTokens = _options.MaxBatchTokens;
        MaxBatchSequences = Math.Min(_options.MaxBatchSequences, _options.MaxBatchTokens);
        TableWidth = (_c.ContextLength + _options.BlockSize - 1) / _options.BlockSize;
        _meta0 = new int[MetaCapacity];
        _thread = new AcceleratorThread("ilgpu-accelerator");
        try
        {
            _thread.Invoke(() => Initialize(model));
        }
        catch
        {
            Dispose();
            throw;
        }
        _step = RunStep;
    }

    public LlamaConfig Config => _c;

    public KvCacheInfo KvCache { get; private set; } = null!;

    public int MaxBatchTokens { get; }

    public int MaxBatchSequences { get; }

    public string DeviceName { get; private set; } = "";

    /// <summary>True when the accelerator is a CUDA device (false: ILGPU's CPU emulator).</summary>
    public bool IsCuda { get; private set; }

    /// <summary>Where the device memory went: weights, activations, the KV pool, and what was free at start.</summary>
    public IlgpuMemoryReport Memory { get; private set; } = null!;

    private int TableWidth { get; }

    private void Initialize(ModelFile model)
    {
        (_context, _accelerator) = AcceleratorFactory.Create(_options);
        var a = _accelerator;
        IsCuda = a is CudaAccelerator;
        var freeAtStart = FreeMemory(a);
        _k = new KernelSet(a);
        _w = new DeviceWeights(a, model.Weights!);

        _plans = Plan(model.Weights!, out var ropeTables);
        int t = MaxBatchTokens, s = MaxBatchSequences, dim = _c.EmbeddingLength, hidden = _c.FeedForwardLength;
        var before = _buffers.Sum(b => b.LengthInBytes);
        _x = Floats((long)t * dim);
        _xb = Floats((long)t * Math.Max(dim, _c.QueryDim));
        _qkv = Floats((long)t * QkvLd);
        _hb = Floats((long)t * hidden);
        _h13 = Floats(t > GemvMaxTokens ? 2L * t * hidden : 1);
        _post = Floats(_w.Layers.Any(l => l.PostAttentionNorm is not null || l.PostFeedForwardNorm is not null) ? (long)t * dim : 1);
        _xLogits = Floats((long)s * dim);
        _logits = Floats((long)s * _c.VocabSize);
        _partialAcc = Floats((long)PartialItemCapacity * _c.HeadDim);
        _partialStats = Floats(2L * PartialItemCapacity);
        _ropeCos = new ArrayView<float>[ropeTables.Count];
        _ropeSin = new ArrayView<float>[ropeTables.Count];
        for (var i = 0; i < ropeTables.Count; i++)
        {
            var (cos, sin) = RopeCosSin(ropeTables[i]);
            _ropeCos[i] = Upload(cos);
            _ropeSin[i] = Upload(sin);
        }
        var meta = a.Allocate1D<int>(MetaCapacity);
        _buffers.Add(meta);
        _meta = meta.View;
        var activationBytes = _buffers.Sum(b => b.LengthInBytes) - before + _k.Bytes;

        var type = _options.KvCacheDataType;
        var bytesPerBlock = KvBytesPerToken(type) * _options.BlockSize;
        var freeForKv = FreeMemory(a);
        var blocks = _options.KvBlocks ?? KvBlocksFor(bytesPerBlock, freeForKv);
        KvCache = new KvCacheInfo(_options.BlockSize, blocks, bytesPerBlock, type);
        _kv = DeviceKvCache.Allocate(a, type, PlaceKv(blocks));

        Memory = new IlgpuMemoryReport(a is CudaAccelerator ? a.MemorySize : HostMemory(a), freeAtStart, _w.Bytes, activationBytes, _kv.Bytes, FreeMemory(a));
        DeviceName = AcceleratorFactory.Describe(a);
        a.Synchronize();
    }

    /// <summary>KV blocks the budget allows: a fraction of the free device memory on CUDA, a byte budget on the CPU emulator.</summary>
    private int KvBlocksFor(long bytesPerBlock, long freeBytes)
    {
        long budget;
        if (IsCuda)
        {
            budget = (long)(freeBytes * _options.GpuMemoryUtilization);
            if (_options.KvCacheBytes is { } cap) budget = Math.Min(budget, cap);
        }
        else
        {
            // The emulator's memory is the host's: as much as the budget allows, but no more than a full batch of full contexts.
            var useful = (long)TableWidth * MaxBatchSequences * bytesPerBlock;
            budget = Math.Min(_options.KvCacheBytes ?? IlgpuRunnerOptions.DefaultCpuKvCacheBytes, useful);
        }
        var blocks = budget / bytesPerBlock;
        if (blocks < 1) throw new InvalidOperationException($"no device memory left for the KV cache ({freeBytes / (1 << 20)} MiB free after weights and activations, a block needs {bytesPerBlock / 1024} KiB)");
        return (int)Math.Min(blocks, int.MaxValue);
    }

    /// <summary>Free device memory on CUDA; on the CPU emulator (whose MemorySize is unbounded) the memory the runtime may use.</summary>
    private static long FreeMemory(Accelerator a) => a is CudaAccelerator c ? c.GetFreeMemory() : HostMemory(a);

    private static long HostMemory(Accelerator a) => Math.Min(a.MemorySize, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    private ArrayView<float> Floats(long length)
    {
        var b = _accelerator!.Allocate1D<float>(Math.Max(1, length));
        _buffers.Add(b);
        return b.View;
    }

    private ArrayView<float> Upload(float[] values)
    {
        var b = _accelerator!.Allocate1D(values.Length == 0 ? [0f] : values);
        _buffers.Add(b);
        return b.View;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _thread.Invoke(() =>
            {
                _accelerator?.Synchronize();
                foreach (var b in _buffers) b.Dispose();
                _buffers.Clear();
                _kv?.Dispose();
                _w?.Dispose();
                _k?.Dispose();
                _accelerator?.Dispose();
                _context?.Dispose();
            });
        }
        finally
        {
            _thread.Dispose();
        }
    }

    private bool _disposed;
}

/// <summary>Device memory at load: total, free before loading, weights, activations, the KV pool, and free after.</summary>
public sealed record IlgpuMemoryReport(long DeviceBytes, long FreeBytesAtStart, long WeightBytes, long ActivationBytes, long KvCacheBytes, long FreeBytesAfterLoad)
{
    public string Describe() =>
        $"device {Mib(DeviceBytes)} MiB, weights {Mib(WeightBytes)} MiB, activations {Mib(ActivationBytes)} MiB, KV cache {Mib(KvCacheBytes)} MiB, free {Mib(FreeBytesAfterLoad)} MiB";

    private static long Mib(long bytes) => bytes >> 20;
}
