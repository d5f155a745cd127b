using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Backends.Cpu.Kernels.Quantized;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// Up to three matrix products sharing one input (q/k/v, gate/up), split into row chunks in one parallel run.
/// Before it, the input rows are quantized once into each encoding the targets read (<see cref="Q8Activations"/>
/// for Q8_0/Q4_0, <see cref="Q8KActivations"/> for K-quants), in parallel over tokens when that is worth it.
/// The quantized buffers are sized at construction (most tokens × largest k): no allocation per step.
/// </summary>
internal sealed unsafe class MatMulJob : IParallelWork, IDisposable
{
    /// <summary>Multiply-adds below which a parallel run costs more than it saves.</summary>
    private const long SerialThreshold = 1 << 16;

    private readonly int _threads;
    private readonly Target[] _targets = new Target[3];
    private readonly int[] _firstItem = new int[4];
    private readonly NativeBuffer? _q8;
    private readonly NativeBuffer? _q8k;
    private readonly QuantizeJob _quantize = new();
    private int _count;
    private float* _x;
    private int _tokens;
    private int _k;
    private ActivationRows _rows;
    private SimdLevel _level;

    /// <param name="threads">Threads of the pool the job runs on.</param>
    /// <param name="maxTokens">Most input rows of one product.</param>
    /// <param name="maxK">Largest input width.</param>
    /// <param name="formats">The activation encodings the model's matrices read.</param>
    public MatMulJob(int threads, int maxTokens, int maxK, IReadOnlySet<ActivationFormat> formats)
    {
        _threads = threads;
        if (formats.Contains(ActivationFormat.Q8)) _q8 = new NativeBuffer(maxTokens * Q8Activations.RowBytes(maxK + 31 & ~31) / sizeof(float));
        if (formats.Contains(ActivationFormat.Q8K)) _q8k = new NativeBuffer(maxTokens * Q8KActivations.RowBytes(maxK + 255 & ~255) / sizeof(float));
    }

    public void Set(float* x, int tokens, int k)
    {
        _x = x;
        _tokens = tokens;
        _k = k;
        _count = 0;
    }

    public void Add(in WeightMatrix w, float* y, int n, bool accumulate) =>
        _targets[_count++] = new Target { W = w, Y = y, N = n, Accumulate = accumulate };

    public void Run(WorkerPool pool)
    {
        _level = Simd.Level;
        var q8 = false;
        var q8k = false;
        var totalRows = 0;
        for (var i = 0; i < _count; i++)
        {
            totalRows += _targets[i].N;
            var format = WeightMatrix.ActivationFormatOf(_targets[i].W.Type);
            q8 |= format == ActivationFormat.Q8;
            q8k |= format == ActivationFormat.Q8K;
        }
        if (q8) _quantize.Run(pool, ActivationFormat.Q8, _x, _tokens, _k, (byte*)_q8!.Pointer);
        if (q8k) _quantize.Run(pool, ActivationFormat.Q8K, _x, _tokens, _k, (byte*)_q8k!.Pointer);
        _rows = new ActivationRows(_x, q8 ? (byte*)_q8!.Pointer : null, q8k ? (byte*)_q8k!.Pointer : null, _tokens, _k);

        // Aim for several chunks per thread (load balance), each a multiple of 4 rows and not too small.
        var chunk = Math.Max(16, (totalRows / (_threads * 6) + 3) & ~3);
        var items = 0;
        for (var i = 0; i < _count; i++)
        {
            _firstItem[i] = items;
            _targets[i].Chunk = chunk;
            items += (_targets[i].N + chunk - 1) / chunk;
        }
        _firstItem[_count] = items;
        // Small products (tiny models, single tokens) cost less than waking the workers.
        pool.Run(this, items, parallel: (long)totalRows * _k * _tokens >= SerialThreshold);
    }

    public void Execute(int item, int worker)
    {
        var i = 0;
        while (item >= _firstItem[i + 1]) i++;
        ref readonly var t = ref _targets[i];
        var n0 = (item - _firstItem[i]) * t.Chunk;
        var n1 = Math.Min(t.N, n0 + t.Chunk);
        MatMul.Rows(t.W, _rows, t.Y, t.N, n0, n1, t.Accumulate, _level);
    }

    public void Dispose()
    {
        _q8?.Dispose();
        _q8k?.Dispose();
    }

    private struct Target
    {
        public WeightMatrix W;
        public float* Y;
        public int N;
        public bool Accumulate;
        public int Chunk;
    }

    /// <summary>Quantizes the input rows, one item per token.</summary>
    private sealed class QuantizeJob : IParallelWork
    {
        private ActivationFormat _format;
        private float* _x;
        private int _k;
        private byte* _destination;
        private long _rowBytes;

        public void Run(WorkerPool pool, ActivationFormat format, float* x, int tokens, int k, byte* destination)
        {
            _format = format;
            _x = x;
            _k = k;
            _destination = destination;
            _rowBytes = format == ActivationFormat.Q8 ? Q8Activations.RowBytes(k) : Q8KActivations.RowBytes(k);
            pool.Run(this, tokens, parallel: (long)tokens * k >= SerialThreshold);
        }

        public void Execute(int item, int worker)
        {
            var x = _x + (long)item * _k;
            var destination = _destination + item * _rowBytes;
            if (_format == ActivationFormat.Q8) Q8Activations.Quantize(x, _k, destination);
            else Q8KActivations.Quantize(x, _k, destination);
        }
    }
}
