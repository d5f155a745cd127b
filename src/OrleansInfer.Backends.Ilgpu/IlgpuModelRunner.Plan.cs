using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Ilgpu;

public sealed partial class IlgpuModelRunner
{
    /// <summary>Row stride of the fused QKV activations: the widest layer's query_dim + 2 kv_dim.</summary>
    private int QkvLd { get; set; }

    /// <summary>
    /// What one layer needs beyond its weights: its head counts and widths (per layer for deci), where its keys and
    /// values start in the pool, which uploaded RoPE table it rotates with, and its sliding window (0: none).
    /// </summary>
    private readonly record struct LayerPlan(int Heads, int KvHeads, int QueryDim, int KvDim, int FeedForward, int Rope, int Window)
    {
        public long KOffset { get; init; }

        /// <summary>Values in each of this layer's K and V halves (blocks × block size × kv_dim).</summary>
        public long HalfStride { get; init; }

        public long VOffset => KOffset + HalfStride;
    }

    /// <summary>The per-layer plans (KV offsets filled in by <see cref="PlaceKv"/>) and the distinct RoPE tables they use.</summary>
    private LayerPlan[] Plan(LlamaWeights weights, out List<RopeTable> tables)
    {
        var plans = new LayerPlan[_c.BlockCount];
        tables = [];
        for (var l = 0; l < plans.Length; l++)
        {
            var table = RopeTable.For(_c, weights, l);
            var index = tables.FindIndex(t => t.Scale == table.Scale && t.Frequencies.AsSpan().SequenceEqual(table.Frequencies));
            if (index < 0)
            {
                index = tables.Count;
                tables.Add(table);
            }
            int heads = _c.HeadCountOf(l), kvHeads = _c.KvHeadCountOf(l);
            if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
                throw new NotSupportedException($"layer {l}: {heads} query heads over {kvHeads} KV heads is not supported by the ILGPU backend");
            var window = _c.IsSlidingWindowLayer(l) ? _c.SlidingWindow!.Value : 0;
            plans[l] = new LayerPlan(heads, kvHeads, heads * _c.HeadDim, kvHeads * _c.HeadDim, _c.FeedForwardLengthOf(l), index, window);
            QkvLd = Math.Max(QkvLd, plans[l].QueryDim + 2 * plans[l].KvDim);
        }
        return plans;
    }

    /// <summary>Bytes one token's keys and values take over all layers, each layer with its own KV head count.</summary>
    private long KvBytesPerToken(KvCacheDataType type) => _plans.Sum(p => 2L * p.KvHeads * KvCacheDataTypes.RowBytes(type, _c.HeadDim));

    /// <summary>Lays the layers' K and V halves out one after the other for <paramref name="blocks"/> blocks; returns the pool's values.</summary>
    private long PlaceKv(int blocks)
    {
        long at = 0;
        for (var l = 0; l < _plans.Length; l++)
        {
            var half = (long)blocks * _options.BlockSize * _plans[l].KvDim;
            _plans[l] = _plans[l] with { KOffset = at, HalfStride = half };
            at += 2 * half;
        }
        return at;
    }

    /// <summary>cos/sin of pos * freq for every position and rotated pair, times the table's scale, as the CPU backend computes them (MathF, f32 angles).</summary>
    private (float[] Cos, float[] Sin) RopeCosSin(RopeTable table)
    {
        var pairs = table.Frequencies.Length;
        var cos = new float[(long)_c.ContextLength * pairs];
        var sin = new float[cos.Length];
        for (var i = 0; i < pairs; i++)
        {
            var freq = table.Frequencies[i];
            for (var pos = 0; pos < _c.ContextLength; pos++)
            {
                var (s, c) = MathF.SinCos(pos * freq);
                cos[(long)pos * pairs + i] = c * table.Scale;
                sin[(long)pos * pairs + i] = s * table.Scale;
            }
        }
        return (cos, sin);
    }
}
