using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Picks the next tokens of a request from its logits rows: penalties, then a draw from each sequence's own generator,
/// or a beam-search step. At the prompt's logits a request fans out to its width (n / best_of): parallel samples share
/// the prompt's blocks and draw from the same row. Chosen tokens go to the <see cref="OutputProcessor"/>.
/// </summary>
internal sealed class SamplingStage
{
    private readonly StepLogits _logits;
    private readonly OutputProcessor _outputs;
    private readonly SequencePool _sequences;
    private readonly BeamSearch _beams;
    private readonly Sampler _sampler;
    private readonly float[] _scratch;
    private readonly int[] _topIds;

    public SamplingStage(StepLogits logits, OutputProcessor outputs, SequencePool sequences, BeamSearch beams, int vocabSize)
    {
        _logits = logits;
        _outputs = outputs;
        _sequences = sequences;
        _beams = beams;
        _sampler = new Sampler(vocabSize);
        _scratch = new float[vocabSize];
        _topIds = new int[SamplingParams.MaxLogprobs];
    }

    /// <summary>Advances every sequence of <paramref name="r"/> that got logits this step (beams only when all of them did).</summary>
    public void Process(RequestState r)
    {
        if (r.IsBeamSearch)
        {
            if (r.Live.TrueForAll(_logits.Has)) _beams.Step(r);
            return;
        }
        foreach (var s in r.Live.ToArray())
        {
            if (_logits.Has(s)) SampleNext(s);
        }
    }

    private void SampleNext(Sequence s)
    {
        var r = s.Request;
        var row = _logits.RowOf(s);
        LogitsProcessing.ApplyPenalties(row, r.Sampling, r.PromptSet, s.OutputCounts);
        if (r.Expanded) Draw(s, row);
        else Expand(s, row);
    }

    /// <summary>
    /// Fans a request out from its prompt's logits to its planned outputs. The prompt's sequence takes the first; the
    /// others fork from it before it changes, each with its own generator. A fresh output draws from this row (all rows
    /// of the prompt are the same); a resumed one takes back its tokens, to be computed next step.
    /// </summary>
    private void Expand(Sequence root, ReadOnlySpan<float> row)
    {
        var r = root.Request;
        var plan = r.Plan ?? FreshPlan(r.Sampling.Width);
        r.Expanded = true;
        r.Plan = null;
        var forks = new Sequence[plan.Count];
        forks[0] = root;
        for (var k = 1; k < plan.Count; k++)
        {
            forks[k] = _sequences.Fork(root, plan[k].Index, _sequences.Generator(r.Sampling, plan[k]));
            forks[k].Text = _outputs.NewText(r);
        }
        // The prompt's own sequence goes last: it is the parent, and draws as the other samples do.
        for (var k = 1; k < plan.Count; k++) Start(forks[k], plan[k], row);
        Start(root, plan[0], row);
    }

    private void Start(Sequence s, PlannedOutput output, ReadOnlySpan<float> row)
    {
        if (output.Resumed is { } resumed) _outputs.Resume(s, resumed);
        if (output.Resumed is not { Tokens.Length: > 0 }) Draw(s, row);
    }

    private static PlannedOutput[] FreshPlan(int width)
    {
        var plan = new PlannedOutput[width];
        for (var i = 0; i < width; i++) plan[i] = new PlannedOutput(i, null);
        return plan;
    }

    /// <summary>Samples the next token of <paramref name="s"/> from <paramref name="row"/> (penalties applied) and hands it on.</summary>
    private void Draw(Sequence s, ReadOnlySpan<float> row)
    {
        var p = s.Request.Sampling;
        var needLogprob = p.Logprobs is not null || p.Width > p.N;
        var lse = needLogprob ? LogitsProcessing.LogSumExp(row, _scratch) : 0f;
        var token = _sampler.Sample(row, p, ref s.Rng);
        TokenLogprobs? lp = null;
        if (p.Logprobs is { } top) lp = LogitsProcessing.Logprobs(row, token, top, lse, _topIds);
        if (needLogprob) s.CumulativeLogprob += row[token] - lse;
        _outputs.Accept(s, token, lp);
    }
}
