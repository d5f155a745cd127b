namespace OrleansInfer.Engine.Tests;

/// <summary>Fake models for <see cref="ScriptedRunner.Model"/>: functions from the context read back from the KV store to logits.</summary>
public static class Models
{
    /// <summary>The same logits whatever the context.</summary>
    public static ScriptedRunner.ModelFunction Fixed(params float[] logits) => (_, row) => logits.CopyTo(row);

    /// <summary>Logits chosen by the last token: row = table[last].</summary>
    public static ScriptedRunner.ModelFunction ByLastToken(float[][] table) => (ctx, row) => table[ctx[^1]].CopyTo(row);

    /// <summary>Greedy script: the k-th generated token is outputs[k] (the last one repeats).</summary>
    public static ScriptedRunner.ModelFunction Script(int promptLength, params int[] outputs) =>
        (ctx, row) => ScriptedRunner.Peak(row, outputs[Math.Min(ctx.Length - promptLength, outputs.Length - 1)]);

    /// <summary>
    /// Pseudo-random logits in [0, spread) seeded by a hash of the whole context: every token of the context, and its
    /// position, changes the distribution, so any KV slot read wrongly changes what is sampled.
    /// </summary>
    public static ScriptedRunner.ModelFunction ContextHash(float spread = 3f) => (ctx, row) => ContextHashLogits(ctx, row, spread);

    public static void ContextHashLogits(ReadOnlySpan<int> ctx, Span<float> row, float spread = 3f)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var t in ctx) h = (h ^ (uint)t) * 0x100000001B3UL;
        for (var i = 0; i < row.Length; i++)
        {
            h ^= h >> 33;
            h *= 0xFF51AFD7ED558CCDUL;
            h ^= h >> 29;
            row[i] = (float)((h >> 11) * (1.0 / (1UL << 53)) * spread);
        }
    }

    /// <summary>log(p) per token: <paramref name="probabilities"/> for the listed tokens, the rest of the mass shared evenly.</summary>
    public static float[] LogProbabilities(int vocab, params (int Token, double P)[] probabilities)
    {
        var rest = 1.0 - probabilities.Sum(p => p.P);
        var others = vocab - probabilities.Length;
        var row = new float[vocab];
        Array.Fill(row, (float)Math.Log(rest / others));
        foreach (var (t, p) in probabilities) row[t] = (float)Math.Log(p);
        return row;
    }

    /// <summary>log-softmax of a row, in double precision.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        var lse = max + Math.Log(sum);
        var result = new double[row.Length];
        for (var i = 0; i < row.Length; i++) result[i] = row[i] - lse;
        return result;
    }

    /// <summary>Sum of log-probabilities the model gives <paramref name="output"/> after <paramref name="prompt"/> (no penalties).</summary>
    public static double CumulativeLogprob(ScriptedRunner.ModelFunction model, int vocab, int[] prompt, IReadOnlyList<int> output)
    {
        var ctx = new List<int>(prompt);
        var row = new float[vocab];
        double sum = 0;
        foreach (var t in output)
        {
            model(ctx.ToArray(), row);
            sum += LogSoftmax(row)[t];
            ctx.Add(t);
        }
        return sum;
    }
}
