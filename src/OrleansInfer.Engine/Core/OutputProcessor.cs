using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;
using OrleansInfer.Engine.Scheduling;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Core;

/// <summary>
/// Turns sampled tokens into a request's output (vLLM v1's output processor): appends each token, detects the end
/// of the output (stop tokens, stop strings, max_tokens, the context), detokenizes through <see cref="OutputText"/>,
/// writes chunks to the request's channel, frees what finished and ends the request's stream with its result.
/// </summary>
internal sealed class OutputProcessor(Tokenizer tokenizer, Scheduler scheduler, int contextLength)
{
    public OutputText NewText(RequestState r) => new(tokenizer, r.Prompt[^1], r.Sampling.Stop);

    /// <summary>EOS (unless ignored) or one of the request's stop ids: it ends the output and, as in vLLM, adds no text.</summary>
    public bool IsStopToken(SamplingParams p, int token) => (!p.IgnoreEos && tokenizer.IsEndOfGeneration(token)) || p.StopTokenIds.Contains(token);

    /// <summary>Appends a sampled token to <paramref name="s"/>, ends the output if it should, and reports it.</summary>
    public void Accept(Sequence s, int token, TokenLogprobs? logprob)
    {
        s.Append(token);
        s.Request.Timeline.GeneratedTokens++;
        if (logprob is not null) s.Logprobs?.Add(logprob);
        var (delta, finish) = Detokenize(s, token);
        s.Finish = finish;
        if (finish is not null) EndSequence(s);
        Emit(s, token, delta, logprob, finish);
    }

    /// <summary>
    /// Gives <paramref name="s"/> what its output already produced elsewhere: tokens (to be recomputed), text state, penalty
    /// counts, log-probabilities and, for a finished output, its finish reason. Nothing is sent again.
    /// </summary>
    public void Resume(Sequence s, ResumedOutput resumed)
    {
        var p = s.Request.Sampling;
        var stopped = false;
        foreach (var t in resumed.Tokens)
        {
            s.Append(t);
            // The same text as when the tokens were generated, so what follows continues where the delivered text stopped.
            if (s.Text is not null && !stopped && !IsStopToken(p, t)) stopped = s.Text.Append(t).Stopped;
        }
        if (resumed.Finished is not null && !stopped) s.Text?.Finish();
        s.Finish = resumed.Finished;
        s.CumulativeLogprob = resumed.CumulativeLogprob;
        if (resumed.Logprobs is not null) s.Logprobs?.AddRange(resumed.Logprobs);
    }

    /// <summary>A sequence is done: its blocks go back (the runner forgets it with the next batch).</summary>
    public void EndSequence(Sequence s)
    {
        scheduler.FreeBlocks(s);
        s.Request.Live.Remove(s);
        s.Request.Done.Add(s);
    }

    /// <summary>Ends a request whose sequences all ended: the chosen outputs of a request that does not stream, then the stream.</summary>
    public void FinishRequest(RequestState r)
    {
        scheduler.Remove(r);
        if (!r.Sampling.Streams)
        {
            var chosen = r.IsBeamSearch
                ? r.Hypotheses.OrderByDescending(BeamSearch.Score).ThenBy(h => h.Id).Take(r.Sampling.N).ToList()
                : r.Done.OrderByDescending(s => s.CumulativeLogprob).ThenBy(s => s.OutputIndex).Take(r.Sampling.N).ToList();
            for (var i = 0; i < chosen.Count; i++)
            {
                var s = chosen[i];
                var text = s.Text?.Text ?? Decode(s);
                var tokens = s.Tokens.GetRange(s.PromptLength, s.OutputLength);
                r.Output.Writer.TryWrite(new GenerationChunk(i, tokens, text, s.Logprobs, s.Finish ?? FinishReason.Length, i == chosen.Count - 1 ? Usage(r) : null)
                {
                    CumulativeLogprob = s.CumulativeLogprob,
                });
            }
        }
        r.Complete();
    }

    private (string Delta, FinishReason? Finish) Detokenize(Sequence s, int token)
    {
        var p = s.Request.Sampling;
        FinishReason? finish = null;
        var delta = "";
        var stopToken = IsStopToken(p, token);
        if (s.Text is not null && !stopToken)
        {
            (delta, var stopped) = s.Text.Append(token);
            if (stopped) finish = FinishReason.Stop;
        }
        if (finish is null)
        {
            if (stopToken) finish = FinishReason.Stop;
            else if (s.OutputLength >= p.MaxTokens || s.Tokens.Count >= contextLength) finish = FinishReason.Length;
            if (finish is not null && s.Text is not null) delta += s.Text.Finish();
        }
        return (delta, finish);
    }

    /// <summary>Streamed outputs send every token; best_of candidates only as progress, when asked for.</summary>
    private static void Emit(Sequence s, int token, string delta, TokenLogprobs? logprob, FinishReason? finish)
    {
        var r = s.Request;
        var p = r.Sampling;
        var progress = !p.Streams && !r.IsBeamSearch && r.ReportProgress;
        if (!p.Streams && !progress) return;
        var last = p.Streams && finish is not null && r.Live.Count == 0;
        r.Output.Writer.TryWrite(new GenerationChunk(s.OutputIndex, [token], delta, logprob is null ? null : [logprob], finish, last ? Usage(r) : null)
        {
            RngState = p.IsGreedy ? null : s.Rng.State,
            IsProgress = progress,
            CumulativeLogprob = s.CumulativeLogprob,
        });
    }

    /// <summary>Completion tokens count every generated output (all best_of samples, resumed tokens included), or the returned beams.</summary>
    private static UsageInfo Usage(RequestState r)
    {
        var completion = r.IsBeamSearch
            ? r.Hypotheses.OrderByDescending(BeamSearch.Score).Take(r.Sampling.N).Sum(h => h.OutputLength)
            : r.Done.Sum(s => s.OutputLength);
        return new UsageInfo(r.Prompt.Length, completion, r.CachedPromptTokens);
    }

    private string Decode(Sequence s)
    {
        var text = NewText(s.Request);
        var sb = new System.Text.StringBuilder();
        for (var i = s.PromptLength; i < s.Tokens.Count; i++) sb.Append(text.Append(s.Tokens[i]).Delta);
        return sb.Append(text.Finish()).ToString();
    }
}
