using OrleansInfer.Backends.Cpu.Kernels;
using System.Numerics.Tensors;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

public sealed unsafe partial class CpuModelRunner
{
    /// <summary>Multiply-adds below which a parallel run costs more than it saves.</summary>
    private const long SerialThreshold = 1 << 16;

    /// <summary>
    /// Per token: add the projection biases (qwen2), RMSNorm each q and k head (qwen3, gemma3), rotate q and k with the
    /// layer's RoPE table (NORM or NEOX pairs), then write k and v into the token's KV slot of the layer.
    /// </summary>
    private sealed class QkvJob(CpuModelRunner r) : IParallelWork
    {
        private int _layer;

        public void Run(WorkerPool pool, int tokens, int layer)
        {
            _layer = layer;
            var plan = r._plan[layer];
            pool.Run(this, tokens, parallel: (long)tokens * (plan.Heads + plan.KvHeads) * plan.HeadDim * 8 >= SerialThreshold);
        }

        public void Execute(int t, int worker)
        {
            var plan = r._plan[_layer];
            var lw = r._w.Layers[_layer];
            int hd = plan.HeadDim, queryDim = plan.QueryDim, kvDim = plan.KvDim, pairs = r._rope.Pairs;
            var q = r._q.Pointer + (long)t * queryDim;
            var k = r._k.Pointer + (long)t * kvDim;
            var v = r._v.Pointer + (long)t * kvDim;
            if (lw.Bq != null) AddBias(q, lw.Bq, queryDim);
            if (lw.Bk != null) AddBias(k, lw.Bk, kvDim);
            if (lw.Bv != null) AddBias(v, lw.Bv, kvDim);
            if (lw.QNorm != null) HeadNorms(q, lw.QNorm, plan.Heads, hd);
            if (lw.KNorm != null) HeadNorms(k, lw.KNorm, plan.KvHeads, hd);

            var cos = r._rope.Angles(t, _layer, r._positions[t]);
            var sin = cos + pairs;
            if (r._c.RopeStyle == RopeStyle.Neox)
            {
                Rope.ApplyNeox(q, plan.Heads, hd, pairs, cos, sin);
                Rope.ApplyNeox(k, plan.KvHeads, hd, pairs, cos, sin);
            }
            else
            {
                Rope.Apply(q, plan.Heads, hd, pairs, cos, sin);
                Rope.Apply(k, plan.KvHeads, hd, pairs, cos, sin);
            }
            r._kv.Write(_layer, r._slots[t], k, v);
        }

        private static void AddBias(float* x, float* bias, int n) =>
            TensorPrimitives.Add(new ReadOnlySpan<float>(x, n), new ReadOnlySpan<float>(bias, n), new Span<float>(x, n));

        private void HeadNorms(float* x, float* weight, int heads, int hd)
        {
            for (var h = 0; h < heads; h++) Norms.RmsNorm(x + h * hd, x + h * hd, weight, hd, r._c.RmsEpsilon);
        }
    }

    /// <summary>
    /// One item per (token, query head): attention over the token's sequence up to its position, from the first
    /// visible position on sliding-window layers (earlier blocks are not read), scaled by the model's attention scale
    /// and soft-capped when the model says so.
    /// </summary>
    private sealed class AttentionJob(CpuModelRunner r) : IParallelWork
    {
        private int _layer;
        private byte* _kCache;
        private byte* _vCache;

        public int Sequences { get; set; }

        public void Run(WorkerPool pool, int tokens, int layer)
        {
            _layer = layer;
            _kCache = r._kv.Keys(layer);
            _vCache = r._kv.Values(layer);
            var plan = r._plan[layer];
            long work = 0;
            for (var t = 0; t < tokens; t++) work += r._positions[t] + 1 - plan.FirstVisible(r._positions[t]);
            pool.Run(this, tokens * plan.Heads, parallel: work * plan.Heads * plan.HeadDim * 2 >= SerialThreshold);
        }

        public void Execute(int item, int worker)
        {
            var plan = r._plan[_layer];
            var t = item / plan.Heads;
            var h = item % plan.Heads;
            var hd = plan.HeadDim;
            var table = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(r._sequenceTables[r._tokenSequence[t]]);
            var scores = r._scratch.Pointer + worker * r._scratchPerWorker;
            var row = scores + ((r._c.ContextLength + 15) & ~15);
            var q = r._q.Pointer + (long)t * plan.QueryDim + h * hd;
            var output = r._xb.Pointer + (long)t * plan.QueryDim + h * hd;
            var (bs, slotBytes, headOffset) = (r.KvCache.BlockSize, r._kv.SlotBytes(_layer), h / plan.GroupSize * r._kv.HeadBytes);
            var (pos, scale, cap) = (r._positions[t], r._c.AttentionScale, r._c.AttentionLogitSoftcap ?? 0f);
            var (start, end) = (plan.FirstVisible(pos), pos + 1);
            switch (r._kv.DataType)
            {
                case KvCacheDataType.F16:
                    PagedAttention.Head<F16KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, start, end, scale, cap, scores, row, output);
                    break;
                case KvCacheDataType.Q8_0:
                    PagedAttention.Head<Q8KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, start, end, scale, cap, scores, row, output);
                    break;
                default:
                    PagedAttention.Head<F32KvRow>(q, _kCache, _vCache, table, bs, slotBytes, headOffset, hd, start, end, scale, cap, scores, row, output);
                    break;
            }
        }
    }
}
