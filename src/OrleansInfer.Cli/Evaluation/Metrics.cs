using OrleansInfer.Engine.Runner;

namespace OrleansInfer.Cli.Evaluation;

/// <summary>Perplexity of a text: exp of the mean negative log-likelihood of the scored tokens.</summary>
internal sealed record PerplexityResult(double Perplexity, int ScoredTokens, int Chunks);

/// <summary>KL(base || model) per scored token: mean, 99th percentile, and how often both pick the same top token.</summary>
internal sealed record KlResult(double Mean, double P99, double Max, double TopAgreement, int ScoredTokens, int Chunks, double[] PerToken);

internal static class Metrics
{
    public static PerplexityResult Perplexity(IModelRunner runner, TextChunks chunks)
    {
        var vocab = runner.Config.VocabSize;
        double nll = 0;
        var count = 0;
        WindowEvaluator.Run([runner], chunks.Windows, chunks.FirstScored, chunks.Context - 1, step =>
        {
            for (var s = 0; s < step.Count; s++)
            {
                var next = chunks.Windows[step.FirstWindow + s][step.Position + 1];
                nll -= TokenStatistics.LogProbability(step.Logits[0].AsSpan(s * vocab, vocab), next);
                count++;
            }
        });
        return new PerplexityResult(Math.Exp(nll / count), count, chunks.Windows.Count);
    }

    /// <summary>Both runners in lockstep over the same chunks.</summary>
    public static KlResult KlDivergence(IModelRunner model, IModelRunner baseModel, TextChunks chunks)
    {
        var reference = new BaseDistributions(baseModel.Config.VocabSize);
        var values = new List<double>(chunks.ScoredTokens);
        var agree = 0;
        WindowEvaluator.Run([baseModel, model], chunks.Windows, chunks.FirstScored, chunks.Context - 1, step =>
        {
            for (var s = 0; s < step.Count; s++)
            {
                var (kl, same) = reference.Compare(step.Logits[0], step.Logits[1], s);
                values.Add(kl);
                if (same) agree++;
            }
        });
        return Summarize(values, agree, chunks.Windows.Count);
    }

    /// <summary>KL of <paramref name="model"/> against base log-probabilities computed earlier (<see cref="BaseLogProbabilities"/>).</summary>
    public static KlResult KlDivergence(IModelRunner model, TextChunks chunks, BaseLogProbabilities reference)
    {
        var vocab = model.Config.VocabSize;
        var values = new List<double>(chunks.ScoredTokens);
        var agree = 0;
        var logQ = new double[vocab];
        WindowEvaluator.Run([model], chunks.Windows, chunks.FirstScored, chunks.Context - 1, step =>
        {
            for (var s = 0; s < step.Count; s++)
            {
                var logP = reference.Row(step.FirstWindow + s, step.Position - chunks.FirstScored);
                TokenStatistics.LogSoftmax(step.Logits[0].AsSpan(s * vocab, vocab), logQ);
                values.Add(TokenStatistics.KlDivergence(logP, logQ));
                if (TokenStatistics.Argmax<double>(logP) == TokenStatistics.Argmax<double>(logQ)) agree++;
            }
        });
        return Summarize(values, agree, chunks.Windows.Count);
    }

    private static KlResult Summarize(List<double> values, int agree, int chunks)
    {
        var sorted = values.Order().ToArray();
        // llama.cpp's percentile: the value at index 99 * count / 100 of the sorted list.
        var p99 = sorted[Math.Min(sorted.Length - 1, 99 * sorted.Length / 100)];
        return new KlResult(values.Average(), p99, sorted[^1], (double)agree / values.Count, values.Count, chunks, [.. values]);
    }

    /// <summary>Scratch for comparing one row of base logits with one row of model logits.</summary>
    private sealed class BaseDistributions(int vocab)
    {
        private readonly double[] _logP = new double[vocab];
        private readonly double[] _logQ = new double[vocab];

        public (double Kl, bool SameTop) Compare(float[] baseLogits, float[] modelLogits, int row)
        {
            TokenStatistics.LogSoftmax(baseLogits.AsSpan(row * vocab, vocab), _logP);
            TokenStatistics.LogSoftmax(modelLogits.AsSpan(row * vocab, vocab), _logQ);
            return (TokenStatistics.KlDivergence(_logP, _logQ), TokenStatistics.Argmax<double>(_logP) == TokenStatistics.Argmax<double>(_logQ));
        }
    }
}

/// <summary>The base model's log-probabilities at every scored position of every chunk, kept to compare many variants against.</summary>
internal sealed class BaseLogProbabilities
{
    private readonly double[] _values;
    private readonly int _vocab;
    private readonly int _perChunk;

    private BaseLogProbabilities(double[] values, int vocab, int perChunk)
    {
        _values = values;
        _vocab = vocab;
        _perChunk = perChunk;
    }

    public static BaseLogProbabilities Compute(IModelRunner runner, TextChunks chunks)
    {
        var vocab = runner.Config.VocabSize;
        var values = new double[(long)chunks.ScoredTokens * vocab];
        WindowEvaluator.Run([runner], chunks.Windows, chunks.FirstScored, chunks.Context - 1, step =>
        {
            for (var s = 0; s < step.Count; s++)
            {
                var at = ((long)(step.FirstWindow + s) * chunks.ScoredPerChunk + step.Position - chunks.FirstScored) * vocab;
                TokenStatistics.LogSoftmax(step.Logits[0].AsSpan(s * vocab, vocab), values.AsSpan((int)at, vocab));
            }
        });
        return new BaseLogProbabilities(values, vocab, chunks.ScoredPerChunk);
    }

    public ReadOnlySpan<double> Row(int chunk, int scoredIndex) => _values.AsSpan((chunk * _perChunk + scoredIndex) * _vocab, _vocab);
}
