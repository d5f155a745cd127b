using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

/// <summary>Beam search over the rows of a request's live beams (temperature 0, no stop strings).</summary>
internal sealed class BeamSearch
{
    private readonly StepLogits _logits;
    private readonly OutputProcessor _outputs;
    private readonly SequencePool _sequences;
    private readonly Scheduler _scheduler;
    private readonly int _vocabSize;
    private readonly int _contextLength;
    private readonly List<BeamCandidate> _candidates = [];
    private readonly float[] _scratch;
    private readonly int[] _topIds = new int[2 * SamplingParams.MaxWidth];
    private readonly int[] _logprobIds = new int[SamplingParams.MaxLogprobs];

    public BeamSearch(StepLogits logits, OutputProcessor outputs, SequencePool sequences, Scheduler scheduler, int vocabSize, int contextLength)
    {
        _logits = logits;
        _outputs = outputs;
        _sequences = sequences;
        _scheduler = scheduler;
        _vocabSize = vocabSize;
        _contextLength = contextLength;
        _scratch = new float[vocabSize];
    }

    private readonly record struct BeamCandidate(double Score, int BeamIndex, Sequence Parent, int Token, float Logprob, float LogSumExp);

    /// <summary>
    /// One beam-search step over a request whose live beams all got logits: the best 2·W continuations of every
    /// beam compete on cumulative log-probability; end tokens among the top W become finished hypotheses; the best
    /// W others become the new beams. A beam with several continuations forks (its blocks shared, copied on write),
    /// a beam with none is dropped. Done when W hypotheses exist and (early stopping, or) no live beam can beat them.
    /// </summary>
    public void Step(RequestState r)
    {
        var p = r.Sampling;
        var width = p.BeamWidth;
        r.Expanded = true;

        _candidates.Clear();
        var perBeam = Math.Min(2 * width, _vocabSize);
        for (var b = 0; b < r.Live.Count; b++)
        {
            var beam = r.Live[b];
            var row = _logits.RowOf(beam);
            LogitsProcessing.ApplyPenalties(row, p, r.PromptSet, beam.OutputCounts);
            var lse = LogitsProcessing.LogSumExp(row, _scratch);
            LogitsProcessing.TopTokens(row, perBeam, _topIds);
            for (var i = 0; i < perBeam; i++)
            {
                var t = _topIds[i];
                var lp = row[t] - lse;
                _candidates.Add(new BeamCandidate(beam.CumulativeLogprob + lp, b, beam, t, lp, lse));
            }
        }
        _candidates.Sort((x, y) => y.Score != x.Score ? y.Score.CompareTo(x.Score) : x.BeamIndex != y.BeamIndex ? x.BeamIndex.CompareTo(y.BeamIndex) : x.Token.CompareTo(y.Token));

        var children = new Dictionary<Sequence, List<BeamCandidate>>();
        var chosen = 0;
        for (var rank = 0; rank < _candidates.Count && chosen < width; rank++)
        {
            var c = _candidates[rank];
            if (_outputs.IsStopToken(p, c.Token))
            {
                if (rank >= width) continue;
                var hypothesis = c.Parent.Fork(_sequences.NextId(), 0, default);
                Extend(hypothesis, c);
                hypothesis.Finish = FinishReason.Stop;
                AddHypothesis(r, hypothesis);
                continue;
            }
            if (!children.TryGetValue(c.Parent, out var list)) children[c.Parent] = list = [];
            list.Add(c);
            chosen++;
        }

        foreach (var beam in r.Live.ToArray())
        {
            if (!children.TryGetValue(beam, out var list))
            {
                _scheduler.FreeBlocks(beam);
                r.Live.Remove(beam);
                continue;
            }
            for (var j = 1; j < list.Count; j++) Extend(_sequences.Fork(beam, 0, default), list[j]);
            Extend(beam, list[0]);
        }

        foreach (var beam in r.Live.ToArray())
        {
            if (beam.OutputLength < p.MaxTokens && beam.Tokens.Count < _contextLength) continue;
            beam.Finish = FinishReason.Length;
            _scheduler.FreeBlocks(beam);
            r.Live.Remove(beam);
            AddHypothesis(r, beam);
        }

        if (r.Live.Count > 0 && r.Hypotheses.Count >= width)
        {
            var worst = r.Hypotheses.Min(Score);
            var bestLive = r.Live.Max(Score);
            if (p.EarlyStopping || bestLive <= worst)
            {
                foreach (var beam in r.Live) _scheduler.FreeBlocks(beam);
                r.Live.Clear();
            }
        }
    }

    private void Extend(Sequence s, in BeamCandidate c)
    {
        var p = s.Request.Sampling;
        if (p.Logprobs is { } top)
        {
            s.Logprobs ??= [];
            s.Logprobs.Add(LogitsProcessing.Logprobs(_logits.RowOf(c.Parent), c.Token, top, c.LogSumExp, _logprobIds));
        }
        s.CumulativeLogprob = c.Parent.CumulativeLogprob + c.Logprob;
        s.Append(c.Token);
        s.Request.Timeline.GeneratedTokens++;
    }

    /// <summary>Keeps the best W finished hypotheses.</summary>
    private void AddHypothesis(RequestState r, Sequence h)
    {
        r.Hypotheses.Add(h);
        if (r.Hypotheses.Count > r.Sampling.BeamWidth) r.Hypotheses.Remove(r.Hypotheses.MinBy(Score)!);
    }

    /// <summary>Cumulative log-probability over output length ^ length penalty.</summary>
    public static double Score(Sequence s) =>
        s.CumulativeLogprob / Math.Pow(Math.Max(1, s.OutputLength), s.Request.Sampling.LengthPenalty);
}
