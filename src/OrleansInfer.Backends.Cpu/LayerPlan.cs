using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

/// <summary>
/// One layer's shapes and switches, read once from the config: head counts and widths (per layer for deci), whether
/// it attends through a sliding window, and which of the model's distinct RoPE tables it rotates with.
/// </summary>
internal readonly record struct LayerPlan(int Heads, int KvHeads, int HeadDim, int FeedForward, int? Window, int RopeTable)
{
    /// <summary>Width of the layer's query heads: rows of Wq, columns of Wo.</summary>
    public int QueryDim => Heads * HeadDim;

    public int KvDim => KvHeads * HeadDim;

    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / KvHeads;

    /// <summary>The first position a query at <paramref name="pos"/> attends to: pos - window + 1 on sliding-window layers.</summary>
    public int FirstVisible(int pos) => Window is { } w ? Math.Max(0, pos + 1 - w) : 0;

    public static LayerPlan[] For(LlamaConfig c, RopeTables tables)
    {
        var plans = new LayerPlan[c.BlockCount];
        for (var l = 0; l < plans.Length; l++)
        {
            var heads = c.HeadCountOf(l);
            var kvHeads = c.KvHeadCountOf(l);
            if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
                throw new NotSupportedException($"layer {l} has {heads} query heads and {kvHeads} KV heads: the CPU runner needs both positive, the KV heads dividing the query heads");
            if (c.FeedForwardLengthOf(l) <= 0) throw new NotSupportedException($"layer {l} has no feed-forward block: not supported by the CPU runner");
            plans[l] = new LayerPlan(heads, kvHeads, c.HeadDim, c.FeedForwardLengthOf(l), c.IsSlidingWindowLayer(l) ? c.SlidingWindow : null, tables.IndexOfLayer[l]);
        }
        return plans;
    }
}

/// <summary>
/// The model's distinct RoPE tables (<see cref="RopeTable.For"/> per layer, layers with equal tables sharing one:
/// gemma3 has two, most models one), and per step the cos/sin of every token for each table, computed by the first
/// layer that uses the table and read by the others (no sin/cos per layer).
/// </summary>
internal sealed unsafe class RopeTables : IDisposable
{
    private readonly NativeBuffer _angles; // (T, tables, 2 * pairs): cos then sin

    public RopeTables(LlamaConfig c, LlamaWeights w, int maxTokens)
    {
        var distinct = new List<RopeTable>();
        IndexOfLayer = new int[c.BlockCount];
        FirstLayer = new List<int>();
        for (var l = 0; l < c.BlockCount; l++)
        {
            var table = RopeTable.For(c, w, l);
            var index = distinct.FindIndex(t => t.Scale == table.Scale && t.Frequencies.AsSpan().SequenceEqual(table.Frequencies));
            if (index < 0)
            {
                index = distinct.Count;
                distinct.Add(table);
                FirstLayer.Add(l);
            }
            IndexOfLayer[l] = index;
        }
        Tables = [.. distinct];
        Pairs = c.RopeDimensionCount / 2;
        if (Tables.Any(t => t.Frequencies.Length != Pairs))
            throw new NotSupportedException($"a RoPE table has {Tables.First(t => t.Frequencies.Length != Pairs).Frequencies.Length} frequencies, {Pairs} pairs expected");
        _angles = new NativeBuffer((long)maxTokens * Tables.Length * 2 * Pairs);
    }

    public RopeTable[] Tables { get; }

    /// <summary>Per layer, its table's index in <see cref="Tables"/>.</summary>
    public int[] IndexOfLayer { get; }

    /// <summary>Per table, the first layer that uses it (which computes the step's angles).</summary>
    public List<int> FirstLayer { get; }

    /// <summary>Rotated pairs per head.</summary>
    public int Pairs { get; }

    /// <summary>
    /// Token <paramref name="t"/>'s cos (then sin, <see cref="Pairs"/> further) for <paramref name="layer"/>'s table at
    /// <paramref name="pos"/>: computed when the layer is the table's first, else the values that layer stored this step.
    /// </summary>
    public float* Angles(int t, int layer, int pos)
    {
        var index = IndexOfLayer[layer];
        var cos = _angles.Pointer + ((long)t * Tables.Length + index) * 2 * Pairs;
        if (FirstLayer[index] == layer) Kernels.Rope.Angles(pos, Tables[index].Frequencies, Tables[index].Scale, cos, cos + Pairs);
        return cos;
    }

    public void Dispose() => _angles.Dispose();
}
