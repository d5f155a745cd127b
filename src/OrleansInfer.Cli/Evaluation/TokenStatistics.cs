using System.Numerics;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>Log-softmax, KL divergence and argmax over one logits row, in double precision.</summary>
internal static class TokenStatistics
{
    /// <summary>log p(token) under soft-max of <paramref name="logits"/> (llama.cpp's log_softmax, summed in double).</summary>
    public static double LogProbability(ReadOnlySpan<float> logits, int token)
    {
        var max = Max(logits);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        return logits[token] - max - Math.Log(sum);
    }

    /// <summary>Writes log-softmax of <paramref name="logits"/> into <paramref name="destination"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<double> destination)
    {
        var max = Max(logits);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        var logSum = Math.Log(sum) + max;
        for (var i = 0; i < logits.Length; i++) destination[i] = logits[i] - logSum;
    }

    /// <summary>KL(P || Q) = Σ p (log p − log q) for log-probabilities <paramref name="logP"/> and <paramref name="logQ"/>.</summary>
    public static double KlDivergence(ReadOnlySpan<double> logP, ReadOnlySpan<double> logQ)
    {
        double kl = 0;
        for (var i = 0; i < logP.Length; i++)
        {
            var p = Math.Exp(logP[i]);
            if (p > 0) kl += p * (logP[i] - logQ[i]);
        }
        return Math.Max(0, kl);
    }

    /// <summary>Index of the largest value; the lowest index wins a tie.</summary>
    public static int Argmax<T>(ReadOnlySpan<T> values) where T : IComparisonOperators<T, T, bool>
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values) max = Math.Max(max, v);
        return max;
    }
}
