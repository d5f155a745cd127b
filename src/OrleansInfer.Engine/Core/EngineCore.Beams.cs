using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;

namespace OrleansInfer.Engine.Core;

internal sealed partial class EngineCore
{
    private readonly List<BeamCandidate> _candidates = [];
    private readonly int[] _logprobIds = new int[SamplingParams.MaxLogprobs];

    private readonly record struct BeamCandidate(double Score, int BeamIndex, Sequence Parent, int Token, float Logprob, float LogSumExp);

    /// <summary>
    /// One beam-search step over a request whose live beams all got logits: the best 2·W continuations of every
    /// beam compete on cumulative log-probability; end tokens among the top W become finished hypotheses; the best
    /// W others become the new beams. A beam with several continuations forks (its blocks shared, copied on write),
    /// a beam with none is dropped. Done when W hypotheses exist and (early stopping, or) no live beam can beat them.
    /// </summary>
    private void BeamStep(RequestState r)
    {
        var p = r.Sampling;
        var width = p.BeamWidth;
        if (!r.Expanded)
        {
            r.Expanded = true;
            r.FirstTokenTicks = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        _candidates.Clear();
        var perBeam = Math.Min(2 * width, Config.VocabSize);
        for (var b = 0; b < r.Live.Count; b++)
        {
            var beam = r.Live[b];
            var row = RowOf(beam);
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
            if ((!p.IgnoreEos && _tokenizer.IsEndOfGeneration(c.Token)) || p.StopTokenIds.Contains(c.Token))
            {
                if (rank >= width) continue;
                var hypothesis = c.Parent.Fork(NextSequenceId(), 0, default);
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
            for (var j = 1; j < list.Count; j++) Extend(Fork(beam, 0, default), list[j]);
            Extend(beam, list[0]);
        }

        foreach (var beam in r.Live.ToArray())
        {
            if (beam.OutputLength < p.MaxTokens && beam.Tokens.Count < Config.ContextLength) continue;
            beam.Finish = FinishReason.Length;
            _scheduler.FreeBlocks(beam);
            r.Live.Remove(beam);
            AddHypothesis(r, beam);
        }

        if (r.Live.Count > 0 && r.Hypotheses.Count >= width)
        {
            var worst = r.Hypotheses.Min(BeamScore);
            var bestLive = r.Live.Max(BeamScore);
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
            s.Logprobs.Add(LogitsProcessing.Logprobs(RowOf(c.Parent), c.Token, top, c.LogSumExp, _logprobIds));
        }
        s.CumulativeLogprob = c.Parent.CumulativeLogprob + c.Logprob;
        s.Append(c.Token);
    }

    /// <summary>Keeps the best W finished hypotheses.</summary>
    private void AddHypothesis(RequestState r, Sequence h)
    {
        r.Hypotheses.Add(h);
        if (r.Hypotheses.Count > r.Sampling.BeamWidth) r.Hypotheses.Remove(r.Hypotheses.MinBy(BeamScore)!);
    }

    /// <summary>Cumulative log-probability over output length ^ length penalty.</summary>
    private static double BeamScore(Sequence s) =>
        s.CumulativeLogprob / Math.Pow(Math.Max(1, s.OutputLength), s.Request.Sampling.LengthPenalty);
}
