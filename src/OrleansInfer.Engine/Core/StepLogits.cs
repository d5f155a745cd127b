using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>The logits the runner wrote for one step: a row of vocabulary size per sequence that asked for them, in batch order.</summary>
internal sealed class StepLogits(int maxSequences, int vocabSize)
{
    private readonly float[] _logits = new float[(long)maxSequences * vocabSize];
    private readonly Dictionary<Sequence, int> _rows = [];

    /// <summary>The buffer the runner writes into.</summary>
    public Span<float> Buffer => _logits;

    /// <summary>Maps this step's rows: the scheduled sequences that wanted logits, in batch order.</summary>
    public void Assign(List<Sequence> scheduled)
    {
        _rows.Clear();
        var row = 0;
        foreach (var s in scheduled)
        {
            if (s.WantsLogits) _rows[s] = row++;
        }
    }

    public bool Has(Sequence s) => _rows.ContainsKey(s);

    /// <summary>The sequence's row (penalties are applied to it in place).</summary>
    public Span<float> RowOf(Sequence s) => _logits.AsSpan(_rows[s] * vocabSize, vocabSize);
}
