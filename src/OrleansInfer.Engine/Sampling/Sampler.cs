using System.Numerics.Tensors;

namespace OrleansInfer.Engine.Sampling;

/// <summary>
/// Picks the next token from one row of logits: argmax at temperature 0, otherwise temperature, then top-k,
/// top-p and min-p truncation (vLLM's order) and a draw from the request's own generator. The logits are left
/// as they were (callers read log-probabilities from them); scratch buffers are allocated once per engine, and a
/// full-vocabulary sort happens only when top-p needs most of the vocabulary.
/// </summary>
public sealed class Sampler
{
    private readonly int[] _indices;
    private readonly float[] _weights;
    private readonly float[] _probs;

    public Sampler(int vocabSize)
    {
        _indices = new int[vocabSize];
        _weights = new float[vocabSize];
        _probs = new float[vocabSize];
    }

    /// <summary>The most likely token (the lowest id among equal maxima).</summary>
    public static int Greedy(ReadOnlySpan<float> logits) => TensorPrimitives.IndexOfMax(logits);

    /// <summary>Samples a token from <paramref name="row"/> (not modified).</summary>
    public int Sample(ReadOnlySpan<float> row, SamplingParams p, ref Xoshiro256 rng)
    {
        if (p.IsGreedy) return Greedy(row);
        var vocab = row.Length;
        var max = TensorPrimitives.Max(row);
        // Unnormalized probabilities exp((l - max) / T); the most likely token has weight 1.
        var logits = _probs.AsSpan(0, vocab);
        TensorPrimitives.Subtract(row, max, logits);
        TensorPrimitives.Multiply(logits, 1f / p.Temperature, logits);
        TensorPrimitives.Exp(logits, logits);

        var idx = _indices.AsSpan(0, vocab);
        for (var i = 0; i < vocab; i++) idx[i] = i;
        var count = vocab;
        var sorted = false;

        if (p.TopK > 0 && p.TopK < vocab)
        {
            count = p.TopK;
            SelectTop(logits, idx, count);
            SortDescending(logits, idx[..count]);
            sorted = true;
        }

        if (p.TopP < 1f)
        {
            var total = Sum(logits, idx[..count]);
            var target = p.TopP * total;
            if (!sorted)
            {
                // Grow a sorted head until it holds the top-p mass; usually a few dozen tokens do.
                for (var k = Math.Min(64, count); ; k = Math.Min(count, k * 8))
                {
                    SelectTop(logits, idx, k);
                    if (k == count || Sum(logits, idx[..k]) >= target)
                    {
                        count = k;
                        break;
                    }
                }
                SortDescending(logits, idx[..count]);
            }
            double cumulative = 0;
            for (var i = 0; i < count; i++)
            {
                cumulative += logits[idx[i]];
                if (cumulative >= target)
                {
                    count = i + 1;
                    break;
                }
            }
        }

        if (p.MinP > 0f)
        {
            // Weights are relative to the most likely token (weight 1), so the threshold is MinP itself.
            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                if (logits[idx[i]] >= p.MinP) idx[kept++] = idx[i];
            }
            count = kept;
        }

        var mass = Sum(logits, idx[..count]);
        var r = rng.NextDouble() * mass;
        double acc = 0;
        for (var i = 0; i < count; i++)
        {
            acc += logits[idx[i]];
            if (r < acc) return idx[i];
        }
        return idx[count - 1];
    }

    private static double Sum(ReadOnlySpan<float> weights, ReadOnlySpan<int> idx)
    {
        double s = 0;
        foreach (var i in idx) s += weights[i];
        return s;
    }

    private void SortDescending(ReadOnlySpan<float> weights, Span<int> idx)
    {
        var keys = _weights.AsSpan(0, idx.Length);
        for (var i = 0; i < idx.Length; i++) keys[i] = -weights[idx[i]];
        // Ties keep the lower token id first.
        keys.Sort(idx);
        StableTies(keys, idx);
    }

    private static void StableTies(Span<float> keys, Span<int> idx)
    {
        for (var i = 0; i < idx.Length;)
        {
            var j = i + 1;
            while (j < idx.Length && keys[j] == keys[i]) j++;
            if (j - i > 1) idx[i..j].Sort();
            i = j;
        }
    }

    /// <summary>Moves the <paramref name="k"/> largest weights' indices to the front (quickselect, unordered).</summary>
    private static void SelectTop(ReadOnlySpan<float> w, Span<int> idx, int k)
    {
        int lo = 0, hi = idx.Length - 1;
        while (lo < hi)
        {
            var pivot = w[idx[(lo + hi) >>> 1]];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (w[idx[i]] > pivot) i++;
                while (w[idx[j]] < pivot) j--;
                if (i <= j)
                {
                    (idx[i], idx[j]) = (idx[j], idx[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else break;
        }
    }
}
