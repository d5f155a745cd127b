using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Backends.Cpu;

public sealed unsafe partial class CpuModelRunner
{
    /// <summary>Multiply-adds below which a parallel run costs more than it saves.</summary>
    private const long SerialThreshold = 1 << 16;

    /// <summary>Per token: rotate q and k, then write k and v into the token's KV slot.</summary>
    private sealed class RopeJob(CpuModelRunner r) : IParallelWork
    {
        private byte* _kCache;
        private byte* _vCache;

        public void Run(WorkerPool pool, int tokens, byte* kCache, byte* vCache)
        {
            _kCache = kCache;
            _vCache = vCache;
            pool.Run(this, tokens, parallel: (long)tokens * (r._c.HeadCount + r._c.KvHeadCount) * r._c.HeadDim * 8 >= SerialThreshold);
        }

        public void Execute(int t, int worker)
        {
            var c = r._c;
            int hd = c.HeadDim, kvDim = c.KvDim, dim = c.EmbeddingLength, pairs = c.RopeDimensionCount / 2;
            var cos = r._scratch.Pointer + worker * r._scratchPerWorker;
            var sin = cos + pairs;
            Rope.Angles(r._positions[t], r._ropeFreqs, cos, sin);
            Rope.Apply(r._q.Pointer + (long)t * dim, c.HeadCount, hd, pairs, cos, sin);
            var k = r._k.Pointer + (long)t * kvDim;
            Rope.Apply(k, c.KvHeadCount, hd, pairs, cos, sin);
            r._kv.Write(_kCache, _vCache, r._slots[t], k, r._v.Pointer + (long)t * kvDim);
        }
    }

    /// <summary>One item per (token, query head): causal attention over the token's sequence up to its position.</summary>
    private sealed class AttentionJob(CpuModelRunner r) : IParallelWork
    {
        private byte* _kCache;
        private byte* _vCache;

        public int Sequences { get; set; }

        public void Run(WorkerPool pool, int tokens, byte* kCache, byte* vCache)
        {
            _kCache = kCache;
            _vCache = vCache;
            long work = 0;
            for (var t = 0; t < tokens; t++) work += r._positions[t] + 1;
            pool.Run(this, tokens * r._c.HeadCount, parallel: work * r._c.EmbeddingLength * 2 >= SerialThreshold);
        }

        public void Execute(int item, int worker)
        {
            var c = r._c;
            var t = item / c.HeadCount;
            var h = item % c.HeadCount;
            var hd = c.HeadDim;
            var table = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(r._sequenceTables[r._tokenSequence[t]]);
            var scores = r._scratch.Pointer + worker * r._scratchPerWorker + c.RopeDimensionCount + 16;
            var row = scores + ((c.ContextLength + 15) & ~15);
            var q = r._q.Pointer + (long)t * c.EmbeddingLength + h * hd;
            var output = r._xb.Pointer + (long)t * c.EmbeddingLength + h * hd;
            var (bs, slotBytes, headOffset, context) = (r.KvCache.BlockSize, r._kv.SlotBytes, h / c.GroupSize * r._kv.HeadBytes, r._positions[t] + 1);
            switch (r._kv.DataType)
            {
                case KvCacheDataType.F16:
                    PagedAttention.Head<F16KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, context, scores, row, output);
                    break;
                case KvCacheDataType.Q8_0:
                    PagedAttention.Head<Q8KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, context, scores, row, output);
                    break;
                default:
                    PagedAttention.Head<F32KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, context, scores, row, output);
                    break;
            }
        }
    }

    /// <summary>Row-wise kernels (RMSNorm, SwiGLU) over the step's tokens.</summary>
    private sealed class RowJob(CpuModelRunner r) : IParallelWork
    {
        private bool _swiglu;
        private float* _out;
        private float* _in;
        private float* _weight;
        private int _size;

        public void RmsNorm(float* output, float* input, float* weight, int size, int tokens)
        {
            _swiglu = false;
            _out = output;
            _in = input;
            _weight = weight;
            _size = size;
            Run(tokens);
        }

        public void SwiGlu(int tokens)
        {
            (_swiglu, _size) = (true, r._c.FeedForwardLength);
            Run(tokens);
        }

        private void Run(int tokens)
        {
            r._pool.Run(this, tokens, parallel: (long)tokens * _size * 8 >= SerialThreshold);
        }

        public void Execute(int t, int worker)
        {
            var offset = (long)t * _size;
            if (_swiglu) Norms.SwiGlu(r._hb.Pointer + offset, r._hb2.Pointer + offset, _size);
            else Norms.RmsNorm(_out + offset, _in + offset, _weight, _size, r._c.RmsEpsilon);
        }
    }
}
