using System.Numerics.Tensors;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Engine.Sampling;

/// <summary>Penalties and log-probabilities on one logits row, touching only the tokens involved (no full-vocabulary copies).</summary>
internal static class LogitsProcessing
{
    /// <summary>Applies repetition (prompt and output tokens), presence and frequency (output tokens) penalties in place.</summary>
    public static void ApplyPenalties(Span<float> logits, SamplingParams p, IReadOnlySet<int> promptTokens, IReadOnlyDictionary<int, int> outputCounts)
    {
        if (p.RepetitionPenalty != 1f)
        {
            foreach (var t in promptTokens) Repeat(logits, t, p.RepetitionPenalty);
            foreach (var t in outputCounts.Keys)
            {
                if (!promptTokens.Contains(t)) Repeat(logits, t, p.RepetitionPenalty);
            }
        }
        if (p.PresencePenalty != 0f || p.FrequencyPenalty != 0f)
        {
            foreach (var (t, count) in outputCounts) logits[t] -= p.PresencePenalty + p.FrequencyPenalty * count;
        }
    }

    private static void Repeat(Span<float> logits, int token, float penalty) =>
        logits[token] = logits[token] > 0 ? logits[token] / penalty : logits[token] * penalty;

    /// <summary>log(sum(exp(logits))), stable.</summary>
    public static float LogSumExp(ReadOnlySpan<float> logits, Span<float> scratch)
    {
        var max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return max + MathF.Log(TensorPrimitives.Sum(scratch));
    }

    /// <summary>The <paramref name="count"/> highest logits' token ids, best first (ties: lower id first).</summary>
    public static void TopTokens(ReadOnlySpan<float> logits, int count, Span<int> ids)
    {
        count = Math.Min(count, logits.Length);
        // logprobs = 0 asks for no alternatives (the loop below needs at least one slot).
        if (count <= 0) return;
        var n = 0;
        for (var t = 0; t < logits.Length; t++)
        {
            var v = logits[t];
            if (n == count && v <= logits[ids[n - 1]]) continue;
            var at = n < count ? n++ : n - 1;
            while (at > 0 && logits[ids[at - 1]] < v)
            {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = t;
        }
    }

    /// <summary>The chosen token's log-probability and the top <paramref name="top"/> alternatives.</summary>
    public static TokenLogprobs Logprobs(ReadOnlySpan<float> logits, int token, int top, float logSumExp, Span<int> scratch)
    {
        var list = new TokenLogprob[Math.Min(top, logits.Length)];
        TopTokens(logits, list.Length, scratch);
        for (var i = 0; i < list.Length; i++) list[i] = new TokenLogprob(scratch[i], logits[scratch[i]] - logSumExp);
        return new TokenLogprobs(token, logits[token] - logSumExp, list);
    }
}
