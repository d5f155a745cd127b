using OrleansInfer.Engine.Runner;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Testing;

/// <summary>How far one runner's next-token distributions are from a base runner's on the same text.</summary>
public static class KvDivergence
{
    /// <summary>KL(base ‖ other) in nats: its mean and largest value over positions, and how often the top tokens agree.</summary>
    public readonly record struct Result(double Mean, double Max, double TopOneAgreement, int Positions);

    /// <summary>
    /// Feeds <paramref name="tokens"/> one at a time (teacher forcing) to both runners as one sequence and compares
    /// the distributions after every token.
    /// </summary>
    public static Result TeacherForced(IModelRunner baseRunner, IModelRunner other, int[] tokens)
    {
        var a = new RunnerDriver(baseRunner);
        var b = new RunnerDriver(other);
        double sum = 0, max = 0;
        var agree = 0;
        for (var pos = 0; pos < tokens.Length; pos++)
        {
            var p = a.Step((1, pos, [tokens[pos]], true))[0];
            var q = b.Step((1, pos, [tokens[pos]], true))[0];
            var kl = Kl(p, q);
            sum += kl;
            max = Math.Max(max, kl);
            if (Sampler.Greedy(p) == Sampler.Greedy(q)) agree++;
        }
        return new Result(sum / tokens.Length, max, (double)agree / tokens.Length, tokens.Length);
    }

    /// <summary>KL(softmax(p) ‖ softmax(q)) in double precision.</summary>
    public static double Kl(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double maxP = double.NegativeInfinity, maxQ = double.NegativeInfinity;
        for (var i = 0; i < p.Length; i++)
        {
            maxP = Math.Max(maxP, p[i]);
            maxQ = Math.Max(maxQ, q[i]);
        }
        double sumP = 0, sumQ = 0;
        for (var i = 0; i < p.Length; i++)
        {
            sumP += Math.Exp(p[i] - maxP);
            sumQ += Math.Exp(q[i] - maxQ);
        }
        double logZp = maxP + Math.Log(sumP), logZq = maxQ + Math.Log(sumQ), kl = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var logP = p[i] - logZp;
            kl += Math.Exp(logP) * (logP - (q[i] - logZq));
        }
        return Math.Max(0, kl);
    }
}
