using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.KvCache;
using OrleansInfer.Engine.Outputs;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Engine.Scheduling;

/// <summary>
/// One token stream of a request inside the engine (the wire request becomes this at the engine boundary):
/// prompt plus generated tokens, how many are computed into the KV cache, its blocks, its sampling state and
/// its output text. A prefill and a decode are the same thing here: compute the uncomputed tokens; the last
/// one yields the logits of the next.
/// </summary>
internal sealed class Sequence
{
    public Sequence(long id, RequestState request, int outputIndex, List<int> tokens, Xoshiro256 rng)
    {
        Id = id;
        Request = request;
        OutputIndex = outputIndex;
        Tokens = tokens;
        Rng = rng;
    }

    public long Id { get; }

    public RequestState Request { get; }

    /// <summary>Which output of the request this is (0 for n = 1).</summary>
    public int OutputIndex { get; set; }

    public List<int> Tokens { get; }

    public int PromptLength => Request.Prompt.Length;

    public int OutputLength => Tokens.Count - PromptLength;

    /// <summary>Tokens whose keys and values are in the KV cache.</summary>
    public int ComputedTokens { get; set; }

    public int Uncomputed => Tokens.Count - ComputedTokens;

    public SequenceBlocks Blocks { get; } = new();

    /// <summary>Leading block-table entries the runner already has; -1 when the runner does not know the sequence.</summary>
    public int RunnerBlocks { get; set; } = -1;

    public Xoshiro256 Rng;

    public double CumulativeLogprob { get; set; }

    /// <summary>Occurrences of each generated token (presence and frequency penalties).</summary>
    public Dictionary<int, int> OutputCounts { get; } = [];

    public List<TokenLogprobs>? Logprobs { get; set; }

    public OutputText? Text { get; set; }

    public FinishReason? Finish { get; set; }

    /// <summary>Tokens scheduled in the current step, and whether they end with logits.</summary>
    public int Scheduled { get; set; }

    public bool WantsLogits { get; set; }

    public void Append(int token)
    {
        Tokens.Add(token);
        OutputCounts[token] = OutputCounts.TryGetValue(token, out var c) ? c + 1 : 1;
    }

    /// <summary>A copy sharing this sequence's tokens so far and (through the block manager) its blocks.</summary>
    public Sequence Fork(long id, int outputIndex, Xoshiro256 rng)
    {
        var child = new Sequence(id, Request, outputIndex, [.. Tokens], rng)
        {
            ComputedTokens = ComputedTokens,
            CumulativeLogprob = CumulativeLogprob,
            Logprobs = Logprobs is null ? null : [.. Logprobs],
        };
        foreach (var (t, c) in OutputCounts) child.OutputCounts[t] = c;
        return child;
    }
}
